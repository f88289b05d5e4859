"""Benchmark input: the records of ``shopstream simulate`` (loadgen), in event time near now."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice

from app.kafka.topic_names import CLICKSTREAM
from loadgen import SimEvent, SimulationOptions, generate_events

__all__ = ["clicks", "mix", "order_pipeline_mix", "product_events", "records"]

#: Records of the simulate mix per order, payment or shipment record in it (about 11.3:
#: 8.85 % of the mix are not clicks), with room to spare: the event time of the
#: orders-only mix spans this many milliseconds per record and still ends before now.
MIX_RECORDS_PER_ORDER_RECORD = 13


def _options(count: int, seed: int, end: datetime | None = None) -> SimulationOptions:
    # 1 ms of event time per record (rate 0), ending about now (or at ``end``): no event
    # is from the future (refused) or older than the grace period of the analytics windows.
    start = (end or datetime.now(UTC)) - timedelta(milliseconds=count) - timedelta(seconds=30)
    return SimulationOptions(rate=0, count=count * 20, seed=seed, start_time=start)


def _compact(event: SimEvent) -> SimEvent:
    """The event with a value of its own size: orjson's output keeps a ~4 KiB buffer, so a
    list of 400,000 generated records held 1.6 GiB instead of about 130 MiB."""
    return SimEvent(event.topic, event.key, bytes(memoryview(event.value)))


def mix(count: int, seed: int) -> list[SimEvent]:
    """The first ``count`` records of the realistic mix (orders, payments, shipments, clicks)."""
    return [_compact(e) for e in islice(generate_events(_options(count, seed)), count)]


def order_pipeline_mix(count: int, seed: int) -> list[SimEvent]:
    """``count`` records of the realistic mix without its clicks (orders, payments, shipments)."""
    span = count * MIX_RECORDS_PER_ORDER_RECORD
    stream = (e for e in generate_events(_options(span, seed)) if e.topic != CLICKSTREAM)
    return [_compact(e) for e in islice(stream, count)]


def clicks(count: int, seed: int, end: datetime | None = None) -> list[SimEvent]:
    """``count`` clickstream records of the same simulation (the analytics job alone).

    ``end``: the event time they end near (default now); a fixed one repeats them exactly.
    """
    stream: Iterator[SimEvent] = (
        e for e in generate_events(_options(count * 2, seed, end)) if e.topic == CLICKSTREAM
    )
    return [_compact(e) for e in islice(stream, count)]


def product_events(events: list[SimEvent]) -> int:
    """Product views and add-to-carts naming a sku (what the Quix peer counts per product)."""
    return sum(
        1
        for e in events
        if (b'"product_view"' in e.value or b'"add_to_cart"' in e.value)
        and b'"sku":null' not in e.value
    )


def records(events: list[SimEvent]) -> Iterator[tuple[str, bytes | None, bytes]]:
    return ((e.topic, e.key.encode(), e.value) for e in events)
