"""Benchmark 1: maximum sustained events/s of one worker, beside aiokafka and Quix Streams.

Method: pre-load the topics with N records, then start the consumer and time
it from its first progress to lag 0 (start-up and recovery excluded). On the
clickstream topic, in the same repeat: the bare aiokafka consumer (decode
only; the ceiling), Quix Streams with the same aggregation (the peer), and
ShopStream's worker. Then the realistic mix of ``shopstream simulate``.
"""

from __future__ import annotations

from collections.abc import Callable

from app.kafka.topic_names import (
    CLICKSTREAM,
    INPUT_TOPICS,
    ORDER_PIPELINE_TOPICS,
)
from bench.events import clicks, mix, order_pipeline_mix, product_events, records
from bench.harness import Harness
from bench.kafka import create_topics, preload
from bench.report import Row
from bench.stats import summarize

__all__ = ["drain_with_workers", "run_throughput"]

UNIT = "events/s"
#: The do-nothing agent's topic (a copy of clickstream records; no ShopStream agent reads it).
NOOP_TOPIC = "bench-noop"
#: Records the bare consumer reads in all (several passes over the topic): a single
#: pass takes well under a second, too short to time.
BARE_RECORDS = 400_000


async def drain_with_workers(
    h: Harness, name: str, *, workers: int = 1, counted: tuple[str, ...], timeout: float = 1800
) -> float | None:
    """Start ``workers`` workers of a fresh group on the pre-loaded topics; events/s to lag 0."""
    app_id = h.new_app_id(name)
    procs = [h.worker(app_id, name=f"worker{i}") for i in range(workers)]
    async with h.progress(app_id, counted) as progress:
        with h.running(*procs):
            drained = await progress.wait_drained(timeout=timeout)
    h.cleanup(app_id)
    h.log(f"{name}: {drained.events} events in {drained.seconds:.1f}s -> {drained.rate}")
    return h.void_if_crashed(f"{name} ({app_id})", procs, drained.rate)


async def _clickstream_repeat(
    h: Harness, rep: int, add: Callable[[str, float | None], None]
) -> None:
    cfg = h.config
    events = clicks(cfg.clicks, cfg.seed + rep)
    await h.fresh_topics()
    await preload(h.bootstrap, records(events))
    h.log(f"pre-loaded {len(events)} clickstream records")
    bare = h.peer(
        "bench.peers.bare_consumer",
        *("--bootstrap", h.bootstrap, "--topic", CLICKSTREAM, "--count", str(len(events))),
        *("--passes", str(max(1, BARE_RECORDS // len(events)))),
        *("--partitions", str(h.config.partitions)),
    )
    add("aiokafka bare consumer (decode only)", bare["rate"])
    state = h.workdir(h.new_app_id("quix")) / "state"
    quix = h.peer(
        "bench.peers.quix_clickstream",
        *("--bootstrap", h.bootstrap, "--topic", CLICKSTREAM, "--count", str(len(events))),
        *("--product-events", str(product_events(events)), "--state-dir", str(state)),
        *("--group", f"bench-quix-{rep}"),
    )
    add("Quix Streams clickstream aggregation", quix["rate"])
    rate = await drain_with_workers(h, "clicks", counted=(CLICKSTREAM,))
    add("ShopStream clickstream analytics", rate)


async def _mix_repeat(h: Harness, rep: int, add: Callable[[str, float | None], None]) -> None:
    events = mix(h.config.mix, h.config.seed + rep)
    await h.fresh_topics()
    await preload(h.bootstrap, records(events))
    h.log(f"pre-loaded {len(events)} records of the simulate mix")
    add("ShopStream simulate mix", await drain_with_workers(h, "mix", counted=INPUT_TOPICS))


async def _orders_mix_repeat(
    h: Harness, rep: int, add: Callable[[str, float | None], None]
) -> None:
    """The order pipeline alone: the simulate mix without its clickstream records."""
    events = order_pipeline_mix(h.config.orders_mix, h.config.seed + rep)
    await h.fresh_topics()
    await preload(h.bootstrap, records(events))
    h.log(f"pre-loaded {len(events)} orders/payments/shipments records of the simulate mix")
    rate = await drain_with_workers(h, "orders-mix", counted=ORDER_PIPELINE_TOPICS)
    add("ShopStream orders-only mix (orders, payments, shipments)", rate)


async def _noop_repeat(h: Harness, rep: int, add: Callable[[str, float | None], None]) -> None:
    """A Faust agent that does nothing, stock and with ShopStream's fixes, on one topic."""
    events = clicks(h.config.noop_records, h.config.seed + rep)
    await h.fresh_topics()
    await create_topics(h.bootstrap, [NOOP_TOPIC], h.config.partitions)
    await preload(h.bootstrap, ((NOOP_TOPIC, key, value) for _, key, value in records(events)))
    for case, extra in (
        ("Faust do-nothing agent, stock", ()),
        ("Faust do-nothing agent, ShopStream's fixes", ("--shopstream",)),
    ):
        datadir = h.workdir(h.new_app_id("noop")) / "data"
        found = h.peer(
            "bench.peers.faust_noop",
            *("--broker", h.url, "--topic", NOOP_TOPIC, "--count", str(len(events))),
            *("--datadir", str(datadir), *extra),
        )
        add(case, found["rate"])


async def run_throughput(h: Harness) -> tuple[list[Row], dict[str, float | None]]:
    """Rows per case, and the ratios the issue asks for."""
    values: dict[str, list[float]] = {}

    def add(case: str, rate: float | None) -> None:
        values.setdefault(case, [])
        if rate is not None:
            values[case].append(rate)

    for rep in range(h.config.repeats):
        h.log(f"throughput repeat {rep + 1}/{h.config.repeats}")
        await _clickstream_repeat(h, rep, add)
        await _mix_repeat(h, rep, add)
        await _orders_mix_repeat(h, rep, add)
        await _noop_repeat(h, rep, add)
    rows = [
        Row("throughput", case, "max sustained", UNIT, summarize(v)) for case, v in values.items()
    ]
    medians = {row.case: row.summary.median for row in rows if row.summary is not None}
    shop = medians.get("ShopStream clickstream analytics")

    def share(other: str) -> float | None:
        base = medians.get(other)
        return shop / base if shop is not None and base else None

    ratios = {
        "ShopStream clickstream / aiokafka bare": share("aiokafka bare consumer (decode only)"),
        "ShopStream clickstream / Quix Streams": share("Quix Streams clickstream aggregation"),
    }
    stock = medians.get("Faust do-nothing agent, stock")
    fixed = medians.get("Faust do-nothing agent, ShopStream's fixes")
    ratios["Faust do-nothing agent: fixes / stock"] = fixed / stock if fixed and stock else None
    return rows, ratios
