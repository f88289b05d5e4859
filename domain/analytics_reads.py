"""Partial answers computed from one partition's rows.

Reads are range scans over the key layout of :mod:`domain.analytics_rows`:
minute aggregates by minute, sessions through their index by latest minute
(a session with an event at or after ``m`` is indexed at or after ``m``).
Rows older than the partition's expiry horizon are ignored even if their
deletion has not happened yet, so an answer never depends on how far expiry
got.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.analytics_partials import (
    FunnelPartial,
    Partial,
    PartialKind,
    ProductsPartial,
    RevenuePartial,
    SessionsPartial,
)
from domain.analytics_query import QueryRange, session_range
from domain.analytics_rows import (
    OWNER_ORDER,
    OWNER_SESSION,
    PartitionKeys,
    ProductMinute,
    RevenueMinute,
    RowReader,
    minute_row_name,
    parse_index_key,
    read_row,
)
from domain.analytics_session import SessionState, active_duration_ms, reached_steps
from domain.analytics_windows import Watermark, WindowPolicy, minute_label

__all__ = ["partition_partial", "partition_stats"]


def _start(span: QueryRange, horizon: int | None) -> int:
    return span.start if horizon is None else max(span.start, horizon)


def _revenue(
    rows: RowReader, keys: PartitionKeys, span: QueryRange, horizon: int | None
) -> RevenuePartial:
    buckets: dict[tuple[int, str], tuple[Decimal, int]] = {}
    for key, value in rows.scan(*keys.revenue_span(_start(span, horizon), span.end)):
        minute, currency = minute_row_name(key)
        row = RevenueMinute.from_dict(value)
        buckets[(minute, currency)] = (row.revenue, row.orders)
    return RevenuePartial(buckets)


def _products(
    rows: RowReader, keys: PartitionKeys, span: QueryRange, horizon: int | None
) -> ProductsPartial:
    products: dict[str, tuple[int, int, int]] = {}
    for key, value in rows.scan(*keys.products_span(_start(span, horizon), span.end)):
        _minute, sku = minute_row_name(key)
        row = ProductMinute.from_dict(value)
        views, carts, units = products.get(sku, (0, 0, 0))
        products[sku] = (views + row.views, carts + row.add_to_cart, units + row.purchases)
    return ProductsPartial(products)


def _sessions_since(rows: RowReader, keys: PartitionKeys, start: int) -> list[SessionState]:
    """Sessions whose latest minute is ``start`` or later (each once)."""
    sessions = []
    for key, _ in rows.scan(*keys.index_span(start, None)):
        minute, kind, owner_id = parse_index_key(key)
        if kind != OWNER_SESSION:
            continue
        state = read_row(rows, keys.owner(kind, owner_id), SessionState.from_row)
        if state is not None and state.indexed == minute:  # skip stale index entries
            sessions.append(state)
    return sessions


def _funnel(
    rows: RowReader, keys: PartitionKeys, span: QueryRange, horizon: int | None
) -> FunnelPartial:
    counts: dict[str, int] = {}
    for state in _sessions_since(rows, keys, _start(span, horizon)):
        for step in reached_steps(state, span, horizon):
            counts[step] = counts.get(step, 0) + 1
    return FunnelPartial(counts)


def _active(
    rows: RowReader, keys: PartitionKeys, until: int, horizon: int | None
) -> SessionsPartial:
    span = session_range(until)
    active, total = 0, 0
    for state in _sessions_since(rows, keys, _start(span, horizon)):
        duration = active_duration_ms(state, until, horizon)
        if duration is not None:
            active += 1
            total += duration
    return SessionsPartial(active, total)


def partition_partial(
    rows: RowReader, partition: int, kind: PartialKind, span: QueryRange, policy: WindowPolicy
) -> Partial:
    """The partial answer of ``kind`` over ``span`` from one partition's rows.

    For :attr:`PartialKind.SESSIONS` only ``span.end`` (``until``) matters.
    """
    keys = PartitionKeys(partition)
    horizon = policy.horizon(read_row(rows, keys.watermark(), Watermark.from_dict))
    if kind is PartialKind.REVENUE:
        return _revenue(rows, keys, span, horizon)
    if kind is PartialKind.PRODUCTS:
        return _products(rows, keys, span, horizon)
    if kind is PartialKind.FUNNEL:
        return _funnel(rows, keys, span, horizon)
    return _active(rows, keys, span.end, horizon)


def partition_stats(rows: RowReader, partition: int) -> dict[str, Any]:
    """Row counts and oldest minute per kind: how much state a partition holds (ops, tests)."""
    keys = PartitionKeys(partition)
    spans = {
        "products": keys.products_span(None, None),
        "revenue": keys.revenue_span(None, None),
        "index": keys.index_span(None, None),
    }
    stats: dict[str, Any] = {}
    for name, span in spans.items():
        count, oldest = 0, None
        for key, _ in rows.scan(*span):
            if oldest is None:
                label = key.decode().split("|", 3)[2]
                oldest = label
            count += 1
        stats[name] = {"rows": count, "oldest_minute": oldest}
    owners = {"sessions": keys.owner(OWNER_SESSION, ""), "orders": keys.owner(OWNER_ORDER, "")}
    for name, prefix in owners.items():
        stats[name] = {"rows": sum(1 for _ in rows.scan(prefix, prefix[:-1] + b"}"))}
    mark = read_row(rows, keys.watermark(), Watermark.from_dict)
    stats["watermark"] = {
        "clicks": _label(mark.clicks),
        "purchases": {str(source): _label(m) for source, m in sorted(mark.purchases.items())},
        "expired_before": _label(mark.expired_before),
    }
    return stats


def _label(minute: int | None) -> str | None:
    return None if minute is None else minute_label(minute)
