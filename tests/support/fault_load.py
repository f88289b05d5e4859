"""Load for the fault tests: seeded generated records, produced while something breaks.

The oracle must fold exactly the records that reached Kafka, so the records
are generated first (:func:`loadgen.generate_events`, duplicates, late and
malformed records included) and then produced at a rate until the test says
stop; what was produced is a prefix of that list.

* :class:`BackgroundLoad` produces through the load generator itself
  (:func:`loadgen.run_simulation`, ``acks=all``, idempotent): any failed send
  fails the run, so a finished run means every record was acknowledged.
* :func:`produce_acked` produces the same way but records, per record,
  whether the broker acknowledged it and when: the broker-failure test folds
  only acknowledged records and measures gaps between acknowledgements.

Figures the fault tests measure are appended as JSON lines to
``test-artifacts/fault-figures.jsonl`` (:func:`record_figure`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise, takewhile
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from loadgen import SimEvent, SimulationOptions, TokenBucket, generate_events, run_simulation
from tests.replay.oracle import Expectation, expect
from tests.support.oracle_checks import LIMITS, analytics_probes, log_records

__all__ = [
    "FIGURES",
    "START",
    "AckedLoad",
    "BackgroundLoad",
    "Judged",
    "judge",
    "produce_acked",
    "record_figure",
    "workload",
]

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / "test-artifacts" / "fault-figures.jsonl"
#: Event time of the first record: minute-aligned, far from other tests' times.
START = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)


def workload(
    seed: int, count: int, rate: float, bootstrap: str
) -> tuple[SimulationOptions, list[SimEvent]]:
    """Options of ``shopstream simulate --seed SEED --count COUNT --rate RATE`` with faults, and its records."""
    options = SimulationOptions(
        rate=rate,
        count=count,
        seed=seed,
        start_time=START,
        brokers=bootstrap,
        fraction_duplicates=0.03,
        fraction_out_of_order=0.05,
        fraction_malformed=0.02,
    )
    return options, list(generate_events(options))


@dataclass(frozen=True, slots=True)
class Judged:
    """The oracle's verdict on the produced records, with what to ask and whose dead letters."""

    expected: Expectation
    probes: dict[str, Any]
    keys: set[str]


def judge(produced: Sequence[SimEvent]) -> Judged:
    """Fold ``produced`` with the replay oracle (the worker's fraud limits: :data:`LIMITS`)."""
    expected = expect(log_records(produced), LIMITS)
    assert expected.kind_disagreements == (), "oracle and generator disagree on poison"
    start = int(START.timestamp() * 1000)
    probes = analytics_probes(expected, start, expected.last_at)
    return Judged(expected, probes, {e.key for e in produced})


class BackgroundLoad:
    """``run_simulation`` over ``events`` in a task, until :meth:`finish` (or the list ends)."""

    def __init__(self, options: SimulationOptions, events: list[SimEvent]) -> None:
        self._options = options
        self._events = events
        self._stopping = False
        self._task: asyncio.Task[Any] | None = None
        self.started_at = 0.0

    def start(self) -> BackgroundLoad:
        source: Iterator[SimEvent] = takewhile(lambda _: not self._stopping, self._events)
        self._task = asyncio.create_task(run_simulation(self._options, events=source))
        self.started_at = time.monotonic()
        return self

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def finish(self) -> list[SimEvent]:
        """Stop producing; return the records produced (all acknowledged), in order."""
        assert self._task is not None, "start() first"
        self._stopping = True
        report = await self._task
        return self._events[: report.total]

    async def cancel(self) -> None:
        """Abandon the run (a failing test's cleanup)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task


@dataclass(slots=True)
class AckedLoad:
    """What :func:`produce_acked` sent: per record, acknowledged or not, and ack times."""

    acked: list[SimEvent] = field(default_factory=list)
    failed: list[tuple[SimEvent, str]] = field(default_factory=list)
    #: Monotonic times of the acknowledgements, in the order they came.
    ack_times: list[float] = field(default_factory=list)

    def max_ack_gap(self, since: float = 0.0, until: float = float("inf")) -> float:
        """Longest wait between two acknowledgements within [since, until] (seconds)."""
        times = sorted(t for t in self.ack_times if since <= t <= until)
        return max((b - a for a, b in pairwise(times)), default=0.0)


async def produce_acked(
    bootstrap: str, events: Sequence[SimEvent], *, rate: float, stop: asyncio.Event
) -> AckedLoad:
    """Produce ``events`` at ``rate`` (``acks=all``, idempotent) until ``stop`` is set.

    Unlike :func:`loadgen.run_simulation`, a failed send does not end the run:
    it is recorded, so that the oracle can fold exactly the acknowledged records.
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        client_id="shopstream-fault-load",
    )
    await producer.start()
    load = AckedLoad()
    bucket = TokenBucket(rate)
    sent: list[tuple[SimEvent, asyncio.Future[Any]]] = []

    def acknowledged(future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and future.exception() is None:
            load.ack_times.append(time.monotonic())

    try:
        for event in events:
            if stop.is_set():
                break
            await bucket.acquire()
            future = await producer.send(event.topic, event.value, key=event.key.encode())
            future.add_done_callback(acknowledged)
            sent.append((event, future))
        await asyncio.gather(*(f for _, f in sent), return_exceptions=True)
    finally:
        await producer.stop()
    for event, future in sent:
        error = future.exception() if future.done() and not future.cancelled() else None
        if future.done() and not future.cancelled() and error is None:
            load.acked.append(event)
        else:
            load.failed.append((event, repr(error)))
    return load


def record_figure(test: str, **figures: Any) -> None:
    """Append one measured figure set to :data:`FIGURES` and print it (``pytest -s`` shows it)."""
    line = {"test": test, "at": datetime.now(UTC).isoformat(timespec="seconds"), **figures}
    FIGURES.parent.mkdir(exist_ok=True)
    with FIGURES.open("ab") as out:
        out.write(orjson.dumps(line) + b"\n")
    print(f"FIGURES {orjson.dumps(line).decode()}")
