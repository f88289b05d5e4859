"""Kafka input fuzzing: hostile records among valid ones; nothing lost, nothing crashes.

Given one worker whose consumer group starts at the current end of the input
topics (so it reads this test's records only), when Hypothesis-generated
hostile records (random bytes, invalid UTF-8, other JSON types, deep nesting,
huge numbers, ``"NaN"`` and ``"1e999999"`` money, impossible times, wrong
types, missing and blank fields, wrong keys and topics, ids over the limits,
values and keys up to the broker's 1 MiB limit) are produced to every input
topic, interleaved with a load generator run of valid events, then

* every hostile record is on ``dead-letters`` exactly once (by its source
  coordinates), with a stage and a reason, and a letter that fits the topic
  (a giant value is carried as size, SHA-256 and prefix);
* every valid record is applied: orders, customers, analytics, ``order-status``
  and ``alerts`` are what :mod:`tests.replay.oracle` folds from the valid
  records alone (a hostile record naming a real order changed nothing);
* the worker never crashed an agent (Faust would have acked the record) and
  never stopped.

The hostile records of a fixed seed run every time; a few more come from a
fresh seed, printed so that a failure can be replayed (``FUZZ_SEED=...``).
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from app.kafka.topic_names import DEAD_LETTERS, INPUT_TOPICS
from loadgen import SimEvent, SimulationOptions, generate_events
from tests.conftest import BrokerAddress
from tests.replay.oracle import expect
from tests.replay.oracle_records import LogRecord
from tests.support.hostile_records import Hostile, draw_hostile, giants, known_hostile
from tests.support.kafka_io import (
    Produced,
    end_offsets,
    produce_raw,
    read_topic,
    start_group_at_the_end,
)
from tests.support.oracle_checks import (
    LIMITS,
    WORKER_ENV,
    analytics_probes,
    check_alerts,
    check_analytics,
    check_customers,
    check_order_status_topic,
    check_orders,
)
from tests.support.worker_process import WorkerProcess

FIXED_SEED = 20261202
FIXED_COUNT = 160
RANDOM_COUNT = 40
GENERATED_COUNT = 3000
CLICK_SAMPLE = 20
#: The dead-letter topic's own limit on what one letter may weigh (Faust's producer default).
LETTER_LIMIT = 1_000_000
#: Log lines of Faust's agent supervisor and of ShopStream's fatal stop.
CRASH_MARKERS = ("Crashed reason", "Restarting dead", "FATAL:", "Traceback")


def _valid_events(start: datetime) -> list[SimEvent]:
    """A load generator run: every order-pipeline event, and one click in ``CLICK_SAMPLE``.

    Shoppers browse far more than they buy; thinning the clicks keeps the run
    short while every topic still gets a fair share (the oracle folds whatever is sent).
    """
    options = SimulationOptions(rate=0, count=GENERATED_COUNT, seed=FIXED_SEED, start_time=start)
    events = list(generate_events(options))
    clicks = [e for e in events if e.topic == "clickstream"][::CLICK_SAMPLE]
    return [e for e in events if e.topic != "clickstream" or e in clicks]


def _interleave(valid: list[SimEvent], hostile: list[Hostile], rng: random.Random) -> list[Any]:
    """Valid events in their order, hostile records dropped in at random places."""
    mixed: list[Any] = list(valid)
    for record in hostile:
        mixed.insert(rng.randrange(len(mixed) + 1), record)
    return mixed


def _letter_matches(letter: dict[str, Any], record: Hostile) -> str | None:
    """What is wrong with ``letter`` as the dead letter of ``record`` (None: nothing)."""
    if not letter.get("error") or not letter.get("stage") or not letter.get("error_type"):
        return f"no reason: {letter}"
    if record.value is None:
        return None if letter.get("value_b64") is None else "a tombstone with a value"
    if letter.get("value_truncated"):
        if letter.get("value_size") != len(record.value):
            return f"size {letter.get('value_size')} != {len(record.value)}"
        if letter.get("value_sha256") != hashlib.sha256(record.value).hexdigest():
            return "sha256 differs"
        prefix = base64.b64decode(letter["value_b64"])
        return None if record.value.startswith(prefix) and prefix else "prefix differs"
    return None if base64.b64decode(letter["value_b64"]) == record.value else "value differs"


async def _check_dead_letters(
    bootstrap: str, hostile: dict[Produced, Hostile], valid: set[Produced], after: dict[int, int]
) -> None:
    def ours(records: list[dict[str, Any]]) -> list[tuple[Produced, dict[str, Any]]]:
        found = []
        for r in records:
            v = r["value"]
            where = (v["source_topic"], v["partition"], v["offset"])
            if where in hostile or where in valid:
                found.append((where, v))
        return found

    records = await read_topic(
        bootstrap,
        DEAD_LETTERS,
        until=lambda rs: {w for w, _ in ours(rs)} >= set(hostile),
        timeout=60,
        start_offsets=after,
    )
    letters = ours(records)
    per_record: dict[Produced, list[dict[str, Any]]] = {}
    for where, letter in letters:
        per_record.setdefault(where, []).append(letter)
    problems = []
    for where, record in hostile.items():
        found = per_record.get(where, [])
        if len(found) != 1:
            problems.append(f"{len(found)} letters for {where} {record.describe()}")
        elif (wrong := _letter_matches(found[0], record)) is not None:
            problems.append(f"{wrong}: {where} {record.describe()}")
    problems += [
        f"a valid record was dead-lettered: {w} {per_record[w]}" for w in valid & set(per_record)
    ]
    too_big = [r["size"] for r in records if r["size"] > LETTER_LIMIT]
    assert not too_big, f"dead letters over {LETTER_LIMIT} bytes: {too_big}"
    assert not problems, "\n".join(problems[:20])


def _crashes(worker: WorkerProcess) -> str:
    """The log lines that say an agent crashed or the worker stopped (none, if all is well)."""
    log = worker.log_path.read_text(errors="replace")
    lines = [line for line in log.splitlines() if any(m in line for m in CRASH_MARKERS)]
    return "\n".join(lines[:10])


async def test_hostile_input_is_dead_lettered_and_valid_input_applied(
    start_worker: Callable[..., WorkerProcess], kafka_broker: BrokerAddress, unique: str
) -> None:
    bootstrap = kafka_broker.bootstrap
    random_seed = int(os.environ.get("FUZZ_SEED", random.randrange(2**32)))
    print(f"fuzzing with fixed seed {FIXED_SEED} and random seed {random_seed} (FUZZ_SEED)")
    started = time.monotonic()
    # Given valid events of a load generator run and hostile records derived from them
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    valid = _valid_events(start)
    hostile = [
        *draw_hostile(valid, count=FIXED_COUNT, seed_value=FIXED_SEED),
        *draw_hostile(valid, count=RANDOM_COUNT, seed_value=random_seed),
        *known_hostile(valid),
        *giants(valid, FIXED_SEED),
    ]
    # ... and a worker that reads only what this test produces
    await start_group_at_the_end(bootstrap, f"shopstream-test-{unique}", INPUT_TOPICS)
    worker = start_worker(**WORKER_ENV)
    worker.wait_ready()
    after = {t: await end_offsets(bootstrap, t) for t in ("order-status", "alerts", DEAD_LETTERS)}

    # When everything is produced, interleaved, with a producer that lets the broker judge sizes
    mixed = _interleave(valid, hostile, random.Random(random_seed))
    landed = await produce_raw(
        bootstrap,
        [
            (r.topic, r.key, r.value)
            if isinstance(r, Hostile)
            else (r.topic, r.key.encode(), r.value)
            for r in mixed
        ],
        max_request_size=2 * 1_048_576,
    )
    where_hostile = {w: r for w, r in zip(landed, mixed, strict=True) if isinstance(r, Hostile)}
    where_valid = {w for w, r in zip(landed, mixed, strict=True) if not isinstance(r, Hostile)}

    # Then every valid record is applied as the oracle says, from the valid records alone
    records = [LogRecord(e.topic, e.key, e.value, e.kind, n) for n, e in enumerate(valid, 1)]
    expected = expect(records, LIMITS)
    assert expected.kind_disagreements == ()
    try:
        await check_orders(worker, expected)
        await check_customers(worker, expected)
        # (thinned clicks: products bought without a view make some top-products probes ambiguous)
        first_minute = int(start.timestamp() * 1000)
        probes = analytics_probes(expected, first_minute, expected.last_at, skip_ambiguous=True)
        await check_analytics(worker, probes)
        await check_order_status_topic(worker, bootstrap, expected, after=after)
        await check_alerts(bootstrap, expected, after=after)
        # ... every hostile one is dead-lettered once, with its reason
        await _check_dead_letters(bootstrap, where_hostile, where_valid, after[DEAD_LETTERS])
    except (AssertionError, OSError) as failure:  # OSError: the worker stopped answering
        raise AssertionError(
            f"random seed {random_seed}: {failure}\n--- crashes ---\n{_crashes(worker)}"
            f"\n--- worker log ---\n{worker.log_tail(30)}"
        ) from failure
    # ... and no agent ever crashed: Faust would have acked the record it was processing
    assert worker.process is not None and worker.process.poll() is None, _crashes(worker)
    assert not _crashes(worker)
    print(
        f"{len(hostile)} hostile and {len(valid)} valid records checked in "
        f"{time.monotonic() - started:.1f}s ({len({h.variant for h in hostile})} variants)"
    )
