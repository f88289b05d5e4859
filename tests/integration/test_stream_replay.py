"""Stream replay: recorded simulator logs through a real worker, checked against an oracle.

Given one worker (fraud limits low enough that some orders are flagged) on a
broker of its own, when each recorded log of ``tests/replay/logs`` is
produced exactly as recorded (topic, key, bytes, file order; duplicates,
late and malformed records included), then every order, every customer, the
analytics queries over several ranges, ``order-status``, ``alerts`` and
``dead-letters`` agree with :mod:`tests.replay.oracle`, an independent fold
over the same log. The logs are replayed one after the other and everything
is checked after each, so the second check also covers customers whose orders
span both logs.

Why a broker of its own: topic names are fixed, and the analytics judge
lateness against the newest event time of a partition. Other tests put
2026 and wall-clock events on the shared ``orders`` and ``clickstream``;
behind those, every 2025 record of the logs would be dead-lettered as late.
A second local broker starts in about two seconds. When ``KAFKA_BROKER`` or
the Docker broker is chosen, the session broker is used as it is; the test
then needs input topics that hold nothing newer than the logs (a fresh broker).
"""

from __future__ import annotations

import gzip
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.settings import load_settings
from loadgen import SimEvent, SimulationOptions, read_jsonl, run_simulation
from tests.conftest import BrokerAddress
from tests.replay.oracle import expect
from tests.replay.oracle_analytics import MINUTE_MS
from tests.replay.oracle_records import LogRecord, read_log
from tests.replay.record_logs import LOGS, LogSpec
from tests.support.oracle_checks import LIMITS, WORKER_ENV, analytics_probes, check_all
from tests.support.worker_process import WorkerProcess


def _uses_configured_broker() -> bool:
    return (
        load_settings().kafka_broker is not None
        or os.environ.get("SHOPSTREAM_TEST_BROKER") == "docker"
    )


@pytest.fixture(scope="module")
def kafka_broker(kafka_broker: BrokerAddress) -> Iterator[BrokerAddress]:
    """The replay's own local broker (see the module docstring), else the session's."""
    if _uses_configured_broker():
        yield kafka_broker
        return
    from localservices.kafka import LocalKafkaCluster

    with LocalKafkaCluster(1, partitions=4) as cluster:
        yield BrokerAddress(url=cluster.url, bootstrap=cluster.bootstrap_servers)


# -- the test ------------------------------------------------------------------------------


def _recorded(spec: LogSpec, scratch: Path) -> list[SimEvent]:
    """The log through loadgen's own reader (what ``shopstream simulate`` would replay)."""
    jsonl = scratch / f"{spec.name}.jsonl"
    jsonl.write_bytes(gzip.decompress(spec.path.read_bytes()))
    return list(read_jsonl(jsonl))


async def test_replayed_logs_answer_what_the_oracle_computes(
    start_worker: Callable[..., WorkerProcess], kafka_broker: BrokerAddress, tmp_path: Path
) -> None:
    # Given a ready worker with low fraud limits
    worker = start_worker(**WORKER_ENV)
    worker.wait_ready()
    produced: list[LogRecord] = []
    probes: dict[str, Any] = {}
    for spec in LOGS:
        # When the recorded log is produced exactly as recorded
        events = _recorded(spec, tmp_path)
        records = read_log(spec.path)
        assert [(e.topic, e.key, e.value) for e in events] == [
            (r.topic, r.key, r.value) for r in records
        ], "loadgen's reader and the oracle's disagree about the log"
        started = time.monotonic()
        options = SimulationOptions(
            rate=0, count=len(events), seed=spec.seed, brokers=kafka_broker.bootstrap
        )
        report = await run_simulation(options, events=events)
        assert report.total == len(events)
        produced.extend(records)

        # Then the worker answers what the oracle folds from everything produced so far
        expected = expect(produced, LIMITS)
        alone = expect(records, LIMITS)
        assert alone.kind_disagreements == (), "oracle and generator disagree on poison"
        assert alone.last_at - alone.first_at < 9 * MINUTE_MS, "a log must stay within the grace"
        start = int(spec.start_time.timestamp() * 1000)
        probes.update(analytics_probes(expected, start, alone.last_at))

        try:
            keys = {r.key for r in produced if r.key is not None}
            await check_all(
                worker,
                kafka_broker.bootstrap,
                expected,
                probes,
                keys=keys,
                whole_broker=not _uses_configured_broker(),
            )
        except AssertionError as failure:
            raise AssertionError(f"{spec.name}: {failure}") from None
        print(
            f"{spec.name}: {len(events)} records replayed and checked in "
            f"{time.monotonic() - started:.1f}s; {len(expected.orders)} orders "
            f"{expected.status_counts()}, {len(expected.customers)} customers, "
            f"{len(probes)} analytics probes, dead letters {expected.dead_letters_by_topic()}, "
            f"fraud flags {sorted(expected.flagged)}"
        )
