"""Benchmark 6: a worker processing its benchmark load while HTTP clients gang up on it.

Per repeat, two runs of the realistic mix on one worker, each on fresh topics:

* *quiet*: the worker is started and ready, then the mix is loaded and the
  worker drains it (timed as in benchmark 1, commit marks to lag 0);
* *hostile*: the same, but before the records are loaded the worker already
  serves 500 dashboard streams plus :data:`EXTRA` more than its cap, 200
  long-polls plus :data:`EXTRA` more than their cap, and bursts of 2,000
  concurrent GETs every 5 s (sizes in ``BenchConfig``; ``--quick``: 50, 20, 200) (orders,
  customers, analytics, health, status counts) one after the other until the
  backlog is drained.

Reported: both rates and the drop, the seconds per burst, the answers with a
5xx other than the expected 503s beyond the caps (must be 0), the requests
refused beyond the caps (503 with Retry-After), client-side errors, and the
worker's peak RSS in both runs. The load generator runs on the same machine
(2 cores): part of the drop is its CPU, not the worker's.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from itertools import cycle

import aiohttp
import orjson

from app.kafka.topic_names import INPUT_TOPICS, ORDERS
from bench.events import mix, records
from bench.harness import Harness
from bench.kafka import preload
from bench.report import Row
from bench.stats import summarize
from bench.workers import BenchWorker
from loadgen import SimEvent

__all__ = ["run_hostile"]

#: Clients beyond each cap, which must be refused with 503 and Retry-After.
EXTRA = 20
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Load:
    """The hostile clients (``BenchConfig``: 500 streams, 200 waits, bursts of 2,000)."""

    sse_clients: int
    long_polls: int
    burst: int
    #: A burst starts every this many seconds (or when the previous one ends, if later).
    burst_every: float

    @property
    def caps(self) -> dict[str, str]:
        """The worker's caps: exactly the clients above, so the extras are refused."""
        return {
            "SHOPSTREAM_MAX_SSE_CLIENTS": str(self.sse_clients),
            "SHOPSTREAM_MAX_LONG_POLLS": str(self.long_polls),
        }


@dataclass
class Attack:
    """What the hostile clients saw."""

    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    refused: int = 0  # 503 with Retry-After beyond a cap
    sse_open: int = 0
    sse_events: int = 0
    burst_seconds: list[float] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def _paths(events: list[SimEvent], burst: int) -> list[str]:
    """Requests of a burst, round robin: keyed lookups of real ids, analytics, health."""
    created = [orjson.loads(e.value) for e in events if e.topic == ORDERS]
    orders = sorted({str(v["order_id"]) for v in created if "order_id" in v})[:200] or ["none"]
    customers = sorted({str(v["customer_id"]) for v in created if v.get("customer_id")})[:200]
    fixed = [
        "/health",
        "/analytics/revenue?minutes=60",
        "/analytics/top-products?n=10&minutes=60",
        "/analytics/funnel?minutes=60",
        "/analytics/sessions",
        "/analytics/order-status-counts",
        "/operations",
    ]
    keyed = zip(cycle(fixed), cycle(orders), cycle(customers or ["none"]), strict=False)
    return [
        path
        for _, (other, order, customer) in zip(range(burst), keyed, strict=False)
        for path in (other, f"/orders/{order}", f"/customers/{customer}")
    ]


async def _sse_client(session: aiohttp.ClientSession, url: str, attack: Attack) -> None:
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=None)) as response:
            if response.status == 503 and "Retry-After" in response.headers:
                attack.refused += 1
                return
            attack.statuses[response.status] += 1
            attack.sse_open += 1
            async for line in response.content:
                if line.startswith(b"data: "):
                    attack.sse_events += 1
    except (aiohttp.ClientError, TimeoutError) as exc:
        attack.errors[type(exc).__name__] += 1


async def _get(
    session: aiohttp.ClientSession, url: str, attack: Attack, *, held: bool = False
) -> None:
    # A held wait has no client timeout: it is cancelled when the run ends.
    timeout = aiohttp.ClientTimeout(total=None) if held else session.timeout
    try:
        async with session.get(url, timeout=timeout) as response:
            await response.read()
            if response.status == 503 and "Retry-After" in response.headers:
                attack.refused += 1
            else:
                attack.statuses[response.status] += 1
    except (aiohttp.ClientError, TimeoutError) as exc:
        attack.errors[type(exc).__name__] += 1


async def _attack(
    worker: BenchWorker, load: Load, paths: list[str], attack: Attack, stop: asyncio.Event
) -> None:
    base = worker.base_url
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        held = [
            asyncio.create_task(_sse_client(session, f"{base}/dashboard/events", attack))
            for _ in range(load.sse_clients + EXTRA)
        ]
        wait = f"{base}/orders/nobody?wait_for=DELIVERED&timeout=300"
        held += [
            asyncio.create_task(_get(session, wait, attack, held=True))
            for _ in range(load.long_polls + EXTRA)
        ]
        try:
            while not stop.is_set():
                started = time.monotonic()
                next_burst = started + load.burst_every
                chosen = [
                    paths[(len(attack.burst_seconds) * load.burst + i) % len(paths)]
                    for i in range(load.burst)
                ]
                await asyncio.gather(*(_get(session, base + path, attack) for path in chosen))
                attack.burst_seconds.append(time.monotonic() - started)
                attack.ready.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(0.0, next_burst - time.monotonic()))
        finally:
            for task in held:
                task.cancel()
            await asyncio.gather(*held, return_exceptions=True)


async def _peak_rss(worker: BenchWorker, peak: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(Exception):
            peak[0] = max(peak[0], worker.rss_bytes())
        await asyncio.sleep(0.5)


async def _run(
    h: Harness, name: str, events: list[SimEvent], *, hostile: Load | None
) -> tuple[float | None, int, Attack]:
    """One drain of ``events``; (events/s, peak RSS, what the clients saw)."""
    await h.fresh_topics()
    app_id = h.new_app_id(name)
    worker = h.worker(app_id, env=hostile.caps if hostile else {})
    attack, stop, peak = Attack(), asyncio.Event(), [0]
    with h.running(worker):
        await asyncio.to_thread(worker.wait_ready, 300)
        tasks: list[Awaitable[None]] = [_peak_rss(worker, peak, stop)]
        if hostile:
            tasks.append(_attack(worker, hostile, _paths(events, hostile.burst), attack, stop))
        running = [asyncio.ensure_future(t) for t in tasks]
        try:
            if hostile:
                await asyncio.wait_for(attack.ready.wait(), timeout=300)  # in place first
            await preload(h.bootstrap, records(events))
            async with h.progress(app_id, INPUT_TOPICS) as progress:
                drained = await progress.wait_drained(timeout=1800)
        finally:
            stop.set()
            await asyncio.gather(*running, return_exceptions=True)
    h.cleanup(app_id)
    h.log(
        f"{name}: {drained.events} events in {drained.seconds:.1f}s -> {drained.rate}; "
        f"peak RSS {peak[0] / MIB:.0f} MiB; statuses {dict(attack.statuses)}; refused "
        f"{attack.refused}; errors {dict(attack.errors)}; bursts {len(attack.burst_seconds)}; "
        f"SSE open {attack.sse_open}, events {attack.sse_events}"
    )
    return h.void_if_crashed(f"{name} ({app_id})", [worker], drained.rate), peak[0], attack


async def run_hostile(h: Harness) -> list[Row]:
    values: dict[tuple[str, str, str], list[float]] = {}

    def add(case: str, metric: str, unit: str, value: float | None) -> None:
        values.setdefault((case, metric, unit), [])
        if value is not None:
            values[(case, metric, unit)].append(value)

    quiet_case = "quiet worker (simulate mix)"
    cfg = h.config
    load = Load(
        cfg.hostile_sse_clients, cfg.hostile_long_polls, cfg.hostile_burst, cfg.hostile_burst_every
    )
    hostile_case = (
        f"{load.sse_clients} SSE + {load.long_polls} long-polls + {load.burst} GETs "
        f"every {load.burst_every:g} s"
    )
    for rep in range(h.config.repeats):
        h.log(f"hostile repeat {rep + 1}/{h.config.repeats}")
        events = mix(cfg.hostile_mix, cfg.seed + rep)
        quiet, quiet_rss, _ = await _run(h, "quiet", events, hostile=None)
        loud, loud_rss, attack = await _run(h, "hostile", events, hostile=load)
        add(quiet_case, "max sustained", "events/s", quiet)
        add(quiet_case, "worker peak RSS", "MiB", quiet_rss / MIB)
        add(hostile_case, "max sustained", "events/s", loud)
        add(hostile_case, "worker peak RSS", "MiB", loud_rss / MIB)
        if quiet and loud:
            add(hostile_case, "throughput drop", "%", 100.0 * (1 - loud / quiet))
        for seconds in attack.burst_seconds:
            add(hostile_case, f"one burst of {load.burst} GETs", "s", seconds)
        add(hostile_case, "bursts served", "count", len(attack.burst_seconds))
        add(hostile_case, "answers 5xx (besides 503 beyond a cap)", "count", attack.server_errors)
        add(hostile_case, "refused beyond a cap (503 + Retry-After)", "count", attack.refused)
        add(hostile_case, "client errors (reset, timeout)", "count", sum(attack.errors.values()))
        add(hostile_case, "SSE streams served", "count", attack.sse_open)
    return [
        Row("hostile", case, metric, unit, summarize(v))
        for (case, metric, unit), v in values.items()
    ]
