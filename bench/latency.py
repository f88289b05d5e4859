"""Benchmark 2: end-to-end latency at fixed offered loads (10/50/80 % of the measured max).

The realistic mix is produced live at a fixed rate (token bucket, event time
= wall clock). Two latencies, both from the produce call, in HDR histograms:

* to the ``order-status`` record caused by the event (matched on
  ``caused_by`` = ``event_id``): every order, payment and shipment event that
  changes a status is a sample;
* to ``GET /orders/{id}?wait_for=CREATED`` answering 200, for order_created
  events (the request is opened at the produce call and long-polls).

The first two seconds of each level are warm-up and not recorded, and a first
level at 50 % (:data:`WARMUP_LEVEL_SECONDS`) warms up the broker started for the run.

The load generator shares the machine's cores with the broker and the worker,
where a shop's producers run elsewhere, so it must cost the worker as little
CPU as it can: the records are produced with confluent-kafka's ``Producer``
(librdkafka: batching, sending and acknowledgements in C threads) at
``acks=all`` with idempotence, Nagle's algorithm off and a linger of
:data:`LINGER_MS` (part of the measured latency), one ``produce()`` +
``poll(0)`` per event from the asyncio loop. Every delivery is reported; a
level with a failed or undelivered record raises (:class:`DeliveryFailed`)
instead of reporting a latency. The ``order-status`` watcher is a
confluent-kafka ``Consumer`` in a thread of its own, which only stamps each
fetched record with its arrival time; the records are matched to their events
after the level. Before 2026-12-02 both were aiokafka clients in the event
loop (one ``await producer.send`` per event): at 16,917 events/s the bench
process took about a core of the two.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import aiohttp
import orjson
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

from app.kafka.topic_names import CLICKSTREAM, ORDER_STATUS, ORDERS
from bench.cpu import CpuMeter, CpuShares, cpu_shares
from bench.harness import Harness
from bench.report import Row
from bench.stats import summarize
from loadgen import SimEvent, SimulationOptions, TokenBucket, generate_events

__all__ = [
    "CPU_METRICS",
    "LINGER_MS",
    "PERCENTILES",
    "DeliveryFailed",
    "DeliveryLedger",
    "LoadProducer",
    "histogram_percentiles",
    "match_status_latencies",
    "run_latency",
]

PERCENTILES = (50.0, 95.0, 99.0)
WARMUP_SECONDS = 2.0
#: Seconds of load at 50 % before the first level (not recorded). The broker is started for
#: the run: its JIT compiler took about a core of the two for the first 10-15 s of load
#: (per-process CPU from /proc: the broker at 95-127 % through a 5 s warm-up and the first
#: 6-8 s of the 10 % level, 35-48 % after), and with 5 s the 10 % level's p99 was mostly
#: its first seconds. A shop's broker has run for weeks.
WARMUP_LEVEL_SECONDS = 15.0
MAX_PROBES_PER_SECOND = 20.0
#: The load generator's producer linger (librdkafka ``linger.ms``): at most this long
#: a record waits for others to share its produce request. Part of every latency here.
LINGER_MS = 1
#: The bench's librdkafka clients turn Nagle's algorithm off (``socket.nagle.disable``), as
#: the Java client and asyncio always do: with it on, a small produce request waits for the
#: broker's TCP acknowledgement of the previous one. Bare broker, 3,000 records/s, one run
#: each: p99 produce -> consume 28.0 ms with Nagle, 4.7 ms without.
CLIENT_SOCKET = {"socket.nagle.disable": True}
#: Records the status watcher takes at once, and how long it waits for the first.
_CONSUME_BATCH = 1000
_CONSUME_WAIT_SECONDS = 0.05
#: Beside each level's latencies: who had the machine's cores while it was produced
#: (:mod:`bench.cpu`), metric -> unit. The load generator is the bench's own process: the
#: producer, the status watcher and the HTTP probes.
CPU_METRICS = {
    "CPU worker": "% of a core",
    "CPU broker": "% of a core",
    "CPU load generator": "% of a core",
    "machine idle": "% of all cores",
    "stolen by the host": "% of all cores",
}


def histogram_percentiles(samples_ms: Iterable[float]) -> dict[float, float] | None:
    """p50/p95/p99 (ms) through an HDR histogram (microsecond resolution, 3 digits)."""
    from hdrh.histogram import HdrHistogram

    histogram = HdrHistogram(1, 120_000_000, 3)
    recorded = 0
    for sample in samples_ms:
        histogram.record_value(max(1, int(sample * 1000)))
        recorded += 1
    if not recorded:
        return None
    return {p: histogram.get_value_at_percentile(p) / 1000 for p in PERCENTILES}


class DeliveryFailed(RuntimeError):
    """The broker did not take every record of a level: its latencies would be a lie."""


class DeliveryLedger:
    """Counts the producer's delivery reports (librdkafka calls :meth:`report` from ``poll``)."""

    def __init__(self) -> None:
        self.delivered = 0
        self.failed = 0
        self.first_error: str | None = None

    def report(self, error: KafkaError | None, _message: Message | None) -> None:
        if error is None:
            self.delivered += 1
            return
        self.failed += 1
        if self.first_error is None:
            self.first_error = str(error)

    def check(self, produced: int, what: str) -> None:
        """Raise unless every one of ``produced`` records was delivered."""
        if self.failed or self.delivered != produced:
            raise DeliveryFailed(
                f"{what}: {produced} produced, {self.delivered} delivered, "
                f"{self.failed} failed (first error: {self.first_error})"
            )


def match_status_latencies(
    sent: dict[str, float], arrived: Iterable[tuple[float, bytes]], recorded_from: float
) -> list[float]:
    """Milliseconds from each event's produce call to the first status record it caused.

    ``sent``: event id -> produce time; ``arrived``: (arrival time, status record value) in
    arrival order. Events sent before ``recorded_from`` (the warm-up) are not samples.
    """
    pending = dict(sent)
    samples: list[float] = []
    for arrived_at, value in arrived:
        sent_at = pending.pop(orjson.loads(value).get("caused_by"), None)
        if sent_at is not None and sent_at >= recorded_from:
            samples.append((arrived_at - sent_at) * 1000)
    return samples


class StatusWatcher:
    """A thread that reads ``order-status`` from its end and stamps each record's arrival."""

    def __init__(self, bootstrap: str, partitions: int) -> None:
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": "bench-latency-watcher",  # never joins: partitions are assigned
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 100,
                **CLIENT_SOCKET,
            }
        )
        ends = []
        for partition in range(partitions):
            _, high = self._consumer.get_watermark_offsets(
                TopicPartition(ORDER_STATUS, partition), timeout=10
            )
            ends.append(TopicPartition(ORDER_STATUS, partition, high))
        self._consumer.assign(ends)
        self._arrived: deque[tuple[float, bytes]] = deque()  # appended and taken thread-safely
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="status-watcher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        poll, consume = self._consumer.poll, self._consumer.consume
        clock = time.perf_counter
        append = self._arrived.append
        while not self._stop.is_set():
            # poll returns at the first record; consume(n, timeout) would wait for n records
            # or the whole timeout (25 ms of false latency on average at 50 ms).
            first = poll(_CONSUME_WAIT_SECONDS)
            if first is None:
                continue
            now = clock()
            for message in (first, *consume(_CONSUME_BATCH, 0)):
                value = message.value()
                if message.error() is not None or value is None:
                    self.error = self.error or str(message.error() or "a record without a value")
                    continue
                append((now, value))

    def take(self) -> list[tuple[float, bytes]]:
        """The records that arrived since the last call."""
        arrived = self._arrived
        return [arrived.popleft() for _ in range(len(arrived))]

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._consumer.close()


def cpu_rows(shares: CpuShares) -> dict[str, float]:
    """The :data:`CPU_METRICS` of one level."""
    found = {f"CPU {name}": share for name, share in shares.processes.items()}
    found["machine idle"] = shares.idle
    found["stolen by the host"] = shares.stolen
    return {metric: round(found.get(metric, 0.0), 1) for metric in CPU_METRICS}


@dataclass(frozen=True, slots=True)
class LevelResult:
    """One level's samples (ms) and the machine's CPU split while it was produced."""

    status_ms: list[float]
    http_ms: list[float]
    cpu: CpuShares


@dataclass
class _Level:
    started: float
    sent: dict[str, float] = field(default_factory=dict)
    http_ms: list[float] = field(default_factory=list)
    produced: int = 0

    @property
    def recorded_from(self) -> float:
        return self.started + WARMUP_SECONDS

    def keep(self, sent_at: float) -> bool:
        return sent_at >= self.recorded_from


async def _probe(session: aiohttp.ClientSession, url: str, sent_at: float, level: _Level) -> None:
    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=30)) as response:
            await response.read()
            if response.status == 200 and level.keep(sent_at):
                level.http_ms.append((time.perf_counter() - sent_at) * 1000)


class LoadProducer:
    """One idempotent librdkafka producer for all the levels of a repeat (its start, the
    producer id and the metadata, cost the first second of a level when it was made per
    level: deliveries took up to 0.8 s); each level counts its deliveries in its own ledger."""

    def __init__(self, bootstrap: str) -> None:
        self.ledger = DeliveryLedger()
        self.producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "acks": "all",
                "enable.idempotence": True,
                "linger.ms": LINGER_MS,
                **CLIENT_SOCKET,
                "on_delivery": self._report,
            }
        )

    def _report(self, error: KafkaError | None, message: Message | None) -> None:
        self.ledger.report(error, message)

    def new_level(self) -> DeliveryLedger:
        self.ledger = DeliveryLedger()
        return self.ledger


async def _offer(
    h: Harness,
    base_url: str,
    load: LoadProducer,
    watcher: StatusWatcher,
    events: Iterator[SimEvent],
    rate: float,
    seconds: float,
    meter: CpuMeter,
) -> LevelResult:
    """Produce ``rate`` events/s for ``seconds``: the latencies and the CPU split meanwhile."""
    ledger = load.new_level()
    producer = load.producer
    watcher.take()  # the previous level's late records are not this one's
    level = _Level(started=time.perf_counter())
    probes: set[asyncio.Task[None]] = set()
    every = max(1, round(rate * 0.025 / MAX_PROBES_PER_SECOND))  # ~2.5 % of the mix are orders
    orders = 0
    bucket = TokenBucket(rate)
    produce, poll, clock = producer.produce, producer.poll, time.perf_counter
    cpu_before = meter.read()
    async with aiohttp.ClientSession() as session:
        for event in islice(events, max(1, round(rate * seconds))):
            await bucket.acquire()
            sent_at = clock()
            if event.topic != CLICKSTREAM:
                value: dict[str, Any] = orjson.loads(event.value)
                level.sent[value["event_id"]] = sent_at
                if event.topic == ORDERS and value.get("type") == "order_created":
                    orders += 1
                    if orders % every == 0:
                        url = f"{base_url}/orders/{value['order_id']}?wait_for=CREATED&timeout=20"
                        task = asyncio.create_task(_probe(session, url, sent_at, level))
                        probes.add(task)
                        task.add_done_callback(probes.discard)
            try:
                produce(event.topic, event.value, event.key.encode())
            except BufferError:  # librdkafka's queue is full: let it send, then once more
                await asyncio.to_thread(poll, 1.0)
                produce(event.topic, event.value, event.key.encode())
            poll(0)
            level.produced += 1
        elapsed = time.perf_counter() - level.started
        cpu = cpu_shares(cpu_before, meter.read())
        undelivered = await asyncio.to_thread(producer.flush, 30.0)
        what = f"latency level {rate:.0f} events/s"
        if undelivered:
            raise DeliveryFailed(f"{what}: {undelivered} records still undelivered after 30 s")
        ledger.check(level.produced, what)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*probes), timeout=20)
        await asyncio.sleep(2.0)  # the last status records
    if watcher.error is not None:
        raise RuntimeError(f"{what}: the order-status watcher failed: {watcher.error}")
    status_ms = match_status_latencies(level.sent, watcher.take(), level.recorded_from)
    h.log(
        f"offered {rate:.0f}/s: produced {level.produced} in {elapsed:.1f}s "
        f"({level.produced / elapsed:.0f}/s), all delivered; samples status={len(status_ms)} "
        f"http={len(level.http_ms)}; CPU "
        + ", ".join(f"{metric} {value:g}" for metric, value in cpu_rows(cpu).items())
    )
    return LevelResult(status_ms, level.http_ms, cpu)


async def run_latency(h: Harness, max_rate: float | None) -> list[Row]:
    # The watcher thread stamps a record when it gets the GIL back from the load loop:
    # at most 1 ms later instead of CPython's default 5 ms switch interval.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    try:
        return await _run_latency(h, max_rate)
    finally:
        sys.setswitchinterval(switch_interval)


async def _run_latency(h: Harness, max_rate: float | None) -> list[Row]:
    cfg = h.config
    top = max_rate or cfg.latency_fallback_max
    collected: dict[tuple[str, str, str], list[float]] = {}
    for rep in range(cfg.repeats):
        h.log(f"latency repeat {rep + 1}/{cfg.repeats} (max taken as {top:.0f} events/s)")
        await h.fresh_topics()
        app_id = h.new_app_id("latency")
        worker = h.worker(app_id)
        with h.running(worker):
            await asyncio.to_thread(worker.wait_ready, 180.0)
            meter = CpuMeter(
                {
                    "worker": [worker.pid],
                    "broker": h.broker_pids,
                    "load generator": [os.getpid()],  # this process: producer and watcher
                }
            )
            # One simulation across the levels (event time = wall clock): shoppers
            # browse before they buy, so a fresh one would start with clicks only.
            events = generate_events(
                SimulationOptions(rate=top, count=10**9, seed=cfg.seed + rep, concurrency=32)
            )
            watcher = StatusWatcher(h.bootstrap, cfg.partitions)
            producer = LoadProducer(h.bootstrap)
            try:
                await _offer(
                    h,
                    worker.base_url,
                    producer,
                    watcher,
                    events,
                    0.5 * top,
                    WARMUP_LEVEL_SECONDS,
                    meter,
                )
                for load in cfg.latency_loads:
                    rate = max(1.0, load * top)
                    found = await _offer(
                        h,
                        worker.base_url,
                        producer,
                        watcher,
                        events,
                        rate,
                        cfg.latency_seconds,
                        meter,
                    )
                    case = f"{load:.0%} of max ({rate:.0f} events/s)"
                    for what, samples in (
                        ("order-status", found.status_ms),
                        ("HTTP", found.http_ms),
                    ):
                        percentiles = histogram_percentiles(samples)
                        for pct in PERCENTILES:
                            key = (case, f"produce -> {what} p{pct:g}", "ms")
                            collected.setdefault(key, [])
                            if percentiles is not None:
                                collected[key].append(percentiles[pct])
                    for metric, value in cpu_rows(found.cpu).items():
                        collected.setdefault((case, metric, CPU_METRICS[metric]), []).append(value)
            finally:
                watcher.close()
        h.report_crashes(f"latency repeat {rep + 1} ({app_id})", [worker])
        h.cleanup(app_id)
    return [
        Row("latency", case, metric, unit, summarize(v))
        for (case, metric, unit), v in collected.items()
    ]
