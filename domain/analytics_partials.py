"""Partial answers of the analytics queries, how they merge, and the final JSON.

A worker answers for the partitions it owns; the worker that was asked
merges the partials of every worker of the group. Each partial is a sum
(monoid): merging is associative and commutative and has the empty partial
as identity, so the merged answer does not depend on how partitions are
spread over workers. Every distinct session lives on one partition (both
inputs are keyed by ``session_id``), so session counts add up too.

Partials travel between workers as JSON (:func:`partial_to_wire`,
:func:`partial_from_wire`); money stays a decimal string on the way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from domain.analytics_query import QueryRange
from domain.analytics_session import FUNNEL_STEPS
from domain.analytics_windows import minute_time
from domain.money import format_money
from domain.timefmt import format_time

__all__ = [
    "FunnelPartial",
    "InvalidPartial",
    "Partial",
    "PartialKind",
    "ProductsPartial",
    "RevenuePartial",
    "SessionsPartial",
    "empty_partial",
    "funnel_answer",
    "merge_partials",
    "partial_from_wire",
    "partial_to_wire",
    "revenue_answer",
    "sessions_answer",
    "top_products_answer",
]


class InvalidPartial(ValueError):
    """A partial answer from another worker that cannot be read."""


class PartialKind(StrEnum):
    REVENUE = "revenue"
    PRODUCTS = "products"
    FUNNEL = "funnel"
    SESSIONS = "sessions"


@dataclass(frozen=True, slots=True)
class RevenuePartial:
    """(minute, currency) -> (revenue, orders)."""

    buckets: Mapping[tuple[int, str], tuple[Decimal, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProductsPartial:
    """sku -> (views, add-to-carts, units purchased), summed over the range."""

    products: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FunnelPartial:
    """step -> sessions that had the step in the range."""

    sessions: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SessionsPartial:
    """Active sessions and the sum of their lengths (ms, exact)."""

    active: int = 0
    total_duration_ms: int = 0


Partial = RevenuePartial | ProductsPartial | FunnelPartial | SessionsPartial

_TYPES: dict[PartialKind, type[Any]] = {
    PartialKind.REVENUE: RevenuePartial,
    PartialKind.PRODUCTS: ProductsPartial,
    PartialKind.FUNNEL: FunnelPartial,
    PartialKind.SESSIONS: SessionsPartial,
}


def empty_partial(kind: PartialKind) -> Partial:
    result: Partial = _TYPES[kind]()
    return result


def _add_pairs(
    left: Mapping[tuple[int, str], tuple[Decimal, int]],
    right: Mapping[tuple[int, str], tuple[Decimal, int]],
) -> dict[tuple[int, str], tuple[Decimal, int]]:
    merged = dict(left)
    for key, (revenue, orders) in right.items():
        before_revenue, before_orders = merged.get(key, (Decimal("0.00"), 0))
        merged[key] = (before_revenue + revenue, before_orders + orders)
    return merged


def _add_triples(
    left: Mapping[str, tuple[int, int, int]], right: Mapping[str, tuple[int, int, int]]
) -> dict[str, tuple[int, int, int]]:
    merged = dict(left)
    for sku, (views, carts, units) in right.items():
        a, b, c = merged.get(sku, (0, 0, 0))
        merged[sku] = (a + views, b + carts, c + units)
    return merged


def _merge_two(left: Partial, right: Partial) -> Partial:
    if isinstance(left, RevenuePartial) and isinstance(right, RevenuePartial):
        return RevenuePartial(_add_pairs(left.buckets, right.buckets))
    if isinstance(left, ProductsPartial) and isinstance(right, ProductsPartial):
        return ProductsPartial(_add_triples(left.products, right.products))
    if isinstance(left, FunnelPartial) and isinstance(right, FunnelPartial):
        steps = set(left.sessions) | set(right.sessions)
        return FunnelPartial(
            {s: left.sessions.get(s, 0) + right.sessions.get(s, 0) for s in sorted(steps)}
        )
    if isinstance(left, SessionsPartial) and isinstance(right, SessionsPartial):
        return SessionsPartial(
            left.active + right.active, left.total_duration_ms + right.total_duration_ms
        )
    raise InvalidPartial(f"cannot merge {type(left).__name__} with {type(right).__name__}")


def merge_partials(kind: PartialKind, partials: Iterable[Partial]) -> Partial:
    """The sum of ``partials`` (all of ``kind``); the empty partial when there are none."""
    merged = empty_partial(kind)
    for partial in partials:
        merged = _merge_two(merged, partial)
    return merged


def partial_to_wire(partial: Partial) -> Any:
    if isinstance(partial, RevenuePartial):
        return [
            [minute, currency, format_money(revenue), orders]
            for (minute, currency), (revenue, orders) in sorted(partial.buckets.items())
        ]
    if isinstance(partial, ProductsPartial):
        return {sku: list(counts) for sku, counts in sorted(partial.products.items())}
    if isinstance(partial, FunnelPartial):
        return dict(partial.sessions)
    return {"active": partial.active, "total_duration_ms": partial.total_duration_ms}


def partial_from_wire(kind: PartialKind, wire: Any) -> Partial:
    """Read another worker's partial; malformed input raises :class:`InvalidPartial`."""
    try:
        if kind is PartialKind.REVENUE:
            return RevenuePartial({(int(m), str(c)): (Decimal(r), int(o)) for m, c, r, o in wire})
        if kind is PartialKind.PRODUCTS:
            return ProductsPartial(
                {str(sku): (int(v), int(a), int(p)) for sku, (v, a, p) in wire.items()}
            )
        if kind is PartialKind.FUNNEL:
            return FunnelPartial({str(step): int(n) for step, n in wire.items()})
        return SessionsPartial(int(wire["active"]), int(wire["total_duration_ms"]))
    except (TypeError, ValueError, KeyError, AttributeError, InvalidOperation) as exc:
        raise InvalidPartial(f"malformed {kind} partial: {exc}") from None


def revenue_answer(span: QueryRange, partial: RevenuePartial) -> dict[str, Any]:
    """Non-empty minute buckets, oldest first (then by currency), money as strings."""
    return {
        **span.bounds(),
        "buckets": [
            {
                "start": format_time(minute_time(minute)),
                "currency": currency,
                "revenue": format_money(revenue),
                "orders": orders,
            }
            for (minute, currency), (revenue, orders) in sorted(partial.buckets.items())
            if orders > 0
        ],
    }


def top_products_answer(span: QueryRange, partial: ProductsPartial, n: int) -> dict[str, Any]:
    """The ``n`` most viewed products: views descending, then sku ascending.

    Only products viewed in the range rank ("the N most viewed products"); a
    product only added to carts or bought in the range has no place in it.
    """
    viewed = [item for item in partial.products.items() if item[1][0] > 0]
    ranked = sorted(viewed, key=lambda item: (-item[1][0], item[0]))[:n]
    return {
        **span.bounds(),
        "products": [
            {"sku": sku, "views": views, "add_to_cart": carts, "purchases": units}
            for sku, (views, carts, units) in ranked
        ],
    }


def funnel_answer(span: QueryRange, partial: FunnelPartial) -> dict[str, Any]:
    """Sessions per step and ``conversion_rate``.

    ``conversion_rate`` is purchase sessions / product_view sessions, both
    counted within the range; it is 0 when no session viewed a product (and it
    can exceed 1 when sessions bought without viewing within the range).
    """
    counts = {step: partial.sessions.get(step, 0) for step in FUNNEL_STEPS}
    viewed = counts[FUNNEL_STEPS[0]]
    bought = counts[FUNNEL_STEPS[-1]]
    return {
        **span.bounds(),
        "steps": [{"step": step, "sessions": counts[step]} for step in FUNNEL_STEPS],
        "conversion_rate": bought / viewed if viewed else 0.0,
    }


def sessions_answer(until: QueryRange, partial: SessionsPartial) -> dict[str, Any]:
    """Active sessions at ``until`` and their mean length in seconds (0 when none).

    The mean is rounded to milliseconds, the precision of event times.
    """
    average = partial.total_duration_ms / partial.active / 1000 if partial.active else 0.0
    return {
        "until": format_time(until.until_time),
        "active_sessions": partial.active,
        "average_duration_seconds": round(average, 3),
    }
