"""``shopstream replay`` rebuilds every table from the input topics, checked against the oracle.

Given a worker that consumed a recorded log (produced in two halves, with a
wall-clock cut between them) and some of whose poison records were requeued
with ``shopstream dlq requeue`` (they go back to their input topic and are
dead-lettered again), when the worker is stopped and ``shopstream replay``
runs, first ``--from`` the cut and then from the beginning, and the worker is
restarted on the data directory it kept, then its tables, endpoints and
re-emitted outputs equal the oracle's fold of exactly the input records
produced at or after the cut (then: all of them), requeued letters included.
The restart proves the replay generation: the kept RocksDB stores are wiped
instead of being served as current. Replay also refuses while the worker is
alive, and without ``--yes`` when there is no terminal to ask on.

Like the stream-replay test, this needs input topics that hold only this
test's records, so it runs on a broker of its own (skipped when a broker is
configured with ``KAFKA_BROKER`` or Docker).
"""

from __future__ import annotations

import asyncio
import gzip
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.kafka.dlq import StoredLetter, read_dead_letters
from app.settings import load_settings
from domain.timefmt import format_time
from loadgen import SimEvent, SimulationOptions, read_jsonl, run_simulation
from tests.conftest import BrokerAddress
from tests.replay.oracle import Expectation, expect
from tests.replay.oracle_analytics import MINUTE_MS
from tests.replay.oracle_records import LogRecord, read_log
from tests.replay.record_logs import LOGS
from tests.support.kafka_io import end_offsets
from tests.support.oracle_checks import LIMITS, WORKER_ENV, analytics_probes, check_all
from tests.support.worker_process import ROOT, WorkerProcess, shopstream, shopstream_run

LOG = LOGS[0]
INPUTS = frozenset({"orders", "payments", "shipments", "clickstream"})
OUTPUTS = ("order-status", "alerts", "dead-letters")
WIPED = "wiped the local table stores"


@pytest.fixture(scope="module")
def kafka_broker(kafka_broker: BrokerAddress) -> Iterator[BrokerAddress]:
    """A broker of this module's own (see the module docstring)."""
    if load_settings().kafka_broker is not None or os.environ.get("SHOPSTREAM_TEST_BROKER"):
        pytest.skip("replay from the beginning needs input topics holding only this test's records")
    from localservices.kafka import LocalKafkaCluster

    with LocalKafkaCluster(1, partitions=4) as cluster:
        yield BrokerAddress(url=cluster.url, bootstrap=cluster.bootstrap_servers)


def _events(scratch: Path) -> list[SimEvent]:
    jsonl = scratch / f"{LOG.name}.jsonl"
    jsonl.write_bytes(gzip.decompress(LOG.path.read_bytes()))
    return list(read_jsonl(jsonl))


async def _produce(bootstrap: str, events: list[SimEvent]) -> None:
    options = SimulationOptions(rate=0, count=len(events), seed=LOG.seed, brokers=bootstrap)
    report = await run_simulation(options, events=events)
    assert report.total == len(events)


async def _letters(bootstrap: str, at_least: int) -> list[StoredLetter]:
    deadline = time.monotonic() + 60
    while True:
        letters = await read_dead_letters(bootstrap)
        if len(letters) >= at_least or time.monotonic() > deadline:
            assert len(letters) >= at_least, f"{len(letters)} dead letters, wanted {at_least}"
            return letters
        await asyncio.sleep(0.5)


async def _requeue_poison(
    bootstrap: str, env: dict[str, str], produced: list[LogRecord], count: int
) -> list[LogRecord]:
    """Requeue ``count`` of the newest poison letters; returns them as input records."""
    letters = await _letters(bootstrap, len(expect(produced, LIMITS).dead_letters))
    poison = [letter for letter in letters if letter.record["source_topic"] in INPUTS]
    chosen = poison[-count:]
    output = shopstream("dlq", "requeue", *(letter.letter_id for letter in chosen), env=env)
    assert f"requeued {count}" in output
    return [
        LogRecord(
            letter.record["source_topic"],
            letter.record["key"],
            letter.original_value() or b"",
            "malformed",
        )
        for letter in chosen
    ]


def _probes(expected: Expectation) -> dict[str, Any]:
    start = expected.first_at - expected.first_at % MINUTE_MS
    return analytics_probes(expected, start, expected.last_at, skip_ambiguous=True)


async def _replay_and_restart(
    args: list[str], env: dict[str, str], start: Callable[[], WorkerProcess], bootstrap: str
) -> tuple[WorkerProcess, dict[str, dict[int, int]], float]:
    """Run ``shopstream replay --yes ARGS`` (following), start the worker once it has reset.

    Returns the worker, the output topics' offsets before the rebuild, and the
    seconds from the replay command to "caught up".
    """
    outputs = {topic: await end_offsets(bootstrap, topic) for topic in OUTPUTS}
    started = time.monotonic()
    command = subprocess.Popen(
        [sys.executable, "-m", "app", "replay", "--yes", "--follow-timeout", "120", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert command.stdout is not None
    lines: list[str] = []
    while not any("start the workers now" in line for line in lines):
        line = await asyncio.to_thread(command.stdout.readline)
        assert line or command.poll() is None, "replay ended early:\n" + "".join(lines)
        lines.append(line)
    worker = start()
    rest, _ = await asyncio.to_thread(command.communicate, timeout=150)
    output = "".join(lines) + rest
    assert command.returncode == 0, output
    assert "rebuild caught up" in output and "replayed" in output, output
    print(output)
    return worker, outputs, time.monotonic() - started


async def test_replay_rebuilds_what_the_oracle_computes(
    start_worker: Callable[..., WorkerProcess], kafka_broker: BrokerAddress, tmp_path: Path
) -> None:
    bootstrap = kafka_broker.bootstrap
    events, records = _events(tmp_path), read_log(LOG.path)
    half = len(events) // 2
    worker = start_worker(**WORKER_ENV)
    worker.wait_ready()
    env = {k: worker.env[k] for k in ("KAFKA_BROKER", "SHOPSTREAM_APP_ID", "SHOPSTREAM_PARTITIONS")}

    # Given the log's first half, two of its poison records requeued, a cut, the second
    # half and one more requeued poison record, all consumed by a worker
    await _produce(bootstrap, events[:half])
    before = records[:half]
    before += await _requeue_poison(bootstrap, env, before, 2)
    await asyncio.sleep(0.2)
    cut = datetime.now(UTC)
    await asyncio.sleep(0.2)
    await _produce(bootstrap, events[half:])
    after = records[half:]
    after += await _requeue_poison(bootstrap, env, before + after, 1)
    everything = before + after
    await _letters(bootstrap, len(expect(everything, LIMITS).dead_letters))
    only_before = sorted(expect(before, LIMITS).orders.keys() - expect(after, LIMITS).orders.keys())
    assert worker.get(f"/orders/{only_before[0]}")[0] == 200

    # Then replay refuses while the worker is alive, naming it, in one line
    refused = shopstream_run("replay", "--yes", env=env)
    assert refused.returncode != 0 and "live member" in refused.stderr, refused
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    worker.stop()
    # and without --yes when nobody can be asked; a dry run changes nothing
    unattended = shopstream_run("replay", env=env)
    assert unattended.returncode != 0 and "--yes" in unattended.stderr, unattended
    dry = shopstream("replay", "--dry-run", "--from", format_time(cut), env=env)
    assert "dry run: nothing changed" in dry and "replay generation 1" in dry, dry

    # When replaying from the cut, and restarting the worker on its kept data directory
    restart = lambda: start_worker(**WORKER_ENV)  # noqa: E731 - same name, same datadir
    worker, outputs, took = await _replay_and_restart(
        ["--from", format_time(cut)], env, restart, bootstrap
    )
    worker.wait_ready()
    # Then its old stores were wiped and it holds what the records after the cut make
    assert worker.log_tail(10_000).count(WIPED) == 1
    assert (worker.datadir / "replay-generation").read_text().strip() == "1"
    expected = expect(after, LIMITS)
    keys = {r.key for r in after if r.key is not None}
    await check_all(worker, bootstrap, expected, _probes(expected), keys=keys, after=outputs)
    assert worker.get(f"/orders/{only_before[0]}")[0] == 404
    print(f"--from replay: {len(after)} records rebuilt and caught up in {took:.1f}s")

    # When replaying everything, again on the kept data directory
    worker.stop()
    worker, outputs, took = await _replay_and_restart([], env, restart, bootstrap)
    worker.wait_ready()
    # Then it holds what all records make, requeued letters included
    assert worker.log_tail(10_000).count(WIPED) == 2
    assert (worker.datadir / "replay-generation").read_text().strip() == "2"
    expected = expect(everything, LIMITS)
    keys = {r.key for r in everything if r.key is not None}
    await check_all(worker, bootstrap, expected, _probes(expected), keys=keys, after=outputs)
    print(f"full replay: {len(everything)} records rebuilt and caught up in {took:.1f}s")
