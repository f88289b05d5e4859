"""Benchmark 2: end-to-end latency at fixed offered loads (10/50/80 % of the measured max).

The realistic mix is produced live at a fixed rate (token bucket, event time
= wall clock). Two latencies, both from the produce call, in HDR histograms:

* to the ``order-status`` record caused by the event (matched on
  ``caused_by`` = ``event_id``): every order, payment and shipment event that
  changes a status is a sample;
* to ``GET /orders/{id}?wait_for=CREATED`` answering 200, for order_created
  events (the request is opened at the produce call and long-polls).

The first two seconds of each level are warm-up and not recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from app.kafka.topic_names import CLICKSTREAM, ORDER_STATUS, ORDERS
from bench.harness import Harness
from bench.report import Row
from bench.stats import summarize
from loadgen import SimEvent, SimulationOptions, TokenBucket, generate_events

__all__ = ["PERCENTILES", "histogram_percentiles", "run_latency"]

PERCENTILES = (50.0, 95.0, 99.0)
WARMUP_SECONDS = 2.0
#: Seconds of load at 50 % before the first level (not recorded).
WARMUP_LEVEL_SECONDS = 5.0
MAX_PROBES_PER_SECOND = 20.0


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


@dataclass
class _Level:
    started: float
    sent: dict[str, float] = field(default_factory=dict)
    status_ms: list[float] = field(default_factory=list)
    http_ms: list[float] = field(default_factory=list)
    produced: int = 0

    def keep(self, sent_at: float) -> bool:
        return sent_at >= self.started + WARMUP_SECONDS


async def _watch_status(consumer: AIOKafkaConsumer, level: _Level) -> None:
    while True:
        batches = await consumer.getmany(timeout_ms=200)
        now = time.perf_counter()
        for messages in batches.values():
            for message in messages:
                caused_by = orjson.loads(message.value).get("caused_by")
                sent_at = level.sent.pop(caused_by, None)
                if sent_at is not None and level.keep(sent_at):
                    level.status_ms.append((now - sent_at) * 1000)


async def _probe(session: aiohttp.ClientSession, url: str, sent_at: float, level: _Level) -> None:
    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=30)) as response:
            await response.read()
            if response.status == 200 and level.keep(sent_at):
                level.http_ms.append((time.perf_counter() - sent_at) * 1000)


async def _offer(
    h: Harness, base_url: str, events: Iterator[SimEvent], rate: float, seconds: float
) -> _Level:
    consumer = AIOKafkaConsumer(bootstrap_servers=h.bootstrap, enable_auto_commit=False)
    await consumer.start()
    status_partitions = [TopicPartition(ORDER_STATUS, p) for p in range(h.config.partitions)]
    consumer.assign(status_partitions)
    await consumer.seek_to_end(*status_partitions)
    producer = AIOKafkaProducer(bootstrap_servers=h.bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    level = _Level(started=time.perf_counter())
    watcher = asyncio.create_task(_watch_status(consumer, level))
    probes: set[asyncio.Task[None]] = set()
    every = max(1, round(rate * 0.025 / MAX_PROBES_PER_SECOND))  # ~2.5 % of the mix are orders
    orders = 0
    bucket = TokenBucket(rate)
    try:
        async with aiohttp.ClientSession() as session:
            for event in islice(events, max(1, round(rate * seconds))):
                await bucket.acquire()
                sent_at = time.perf_counter()
                if event.topic != CLICKSTREAM:
                    value = orjson.loads(event.value)
                    level.sent[value["event_id"]] = sent_at
                    if event.topic == ORDERS and value.get("type") == "order_created":
                        orders += 1
                        if orders % every == 0:
                            url = (
                                f"{base_url}/orders/{value['order_id']}?wait_for=CREATED&timeout=20"
                            )
                            task = asyncio.create_task(_probe(session, url, sent_at, level))
                            probes.add(task)
                            task.add_done_callback(probes.discard)
                await producer.send(event.topic, event.value, key=event.key.encode())
                level.produced += 1
            await producer.flush()
            elapsed = time.perf_counter() - level.started
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*probes), timeout=20)
            await asyncio.sleep(2.0)  # the last status records
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await producer.stop()
        await consumer.stop()
    h.log(
        f"offered {rate:.0f}/s: produced {level.produced} in {elapsed:.1f}s "
        f"({level.produced / elapsed:.0f}/s); samples status={len(level.status_ms)} "
        f"http={len(level.http_ms)}"
    )
    return level


async def run_latency(h: Harness, max_rate: float | None) -> list[Row]:
    cfg = h.config
    top = max_rate or cfg.latency_fallback_max
    collected: dict[tuple[str, str], list[float]] = {}
    for rep in range(cfg.repeats):
        h.log(f"latency repeat {rep + 1}/{cfg.repeats} (max taken as {top:.0f} events/s)")
        await h.fresh_topics()
        app_id = h.new_app_id("latency")
        worker = h.worker(app_id)
        with h.running(worker):
            await asyncio.to_thread(worker.wait_ready, 180.0)
            # One simulation across the levels (event time = wall clock): shoppers
            # browse before they buy, so a fresh one would start with clicks only.
            events = generate_events(
                SimulationOptions(rate=top, count=10**9, seed=cfg.seed + rep, concurrency=32)
            )
            await _offer(h, worker.base_url, events, 0.5 * top, WARMUP_LEVEL_SECONDS)
            for load in cfg.latency_loads:
                rate = max(1.0, load * top)
                level = await _offer(h, worker.base_url, events, rate, cfg.latency_seconds)
                case = f"{load:.0%} of max ({rate:.0f} events/s)"
                for what, samples in (("order-status", level.status_ms), ("HTTP", level.http_ms)):
                    found = histogram_percentiles(samples)
                    for pct in PERCENTILES:
                        key = (case, f"produce -> {what} p{pct:g}")
                        collected.setdefault(key, [])
                        if found is not None:
                            collected[key].append(found[pct])
        h.report_crashes(f"latency repeat {rep + 1} ({app_id})", [worker])
        h.cleanup(app_id)
    return [
        Row("latency", case, metric, "ms", summarize(v)) for (case, metric), v in collected.items()
    ]
