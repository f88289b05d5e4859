"""The analytics API of DESIGN.md: ``/analytics/revenue``, ``top-products``, ``funnel``, ``sessions``.

Answers are global: whichever worker is asked gathers the partial answers of
the whole group (:mod:`app.cluster.analytics`), so the numbers cover every
partition. Parameters are validated by :mod:`domain.analytics_query`; bad
ones are answered with a 400 and ``{"error": ...}``; while the group cannot
give a complete answer (rebalancing, a worker down) the answer is a 503.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from faust.web import Request, Response, View

from app.cluster.analytics import AnalyticsUnavailable, global_partial
from app.main import app
from app.web.responses import json_error, query
from domain.analytics_partials import (
    FunnelPartial,
    Partial,
    PartialKind,
    ProductsPartial,
    RevenuePartial,
    SessionsPartial,
    funnel_answer,
    revenue_answer,
    sessions_answer,
    top_products_answer,
)
from domain.analytics_query import (
    SESSION_GAP_MINUTES,
    InvalidQuery,
    QueryRange,
    parse_minutes,
    parse_top_n,
    parse_until,
    query_range,
)
from domain.timefmt import now_utc

__all__ = ["FunnelView", "RevenueView", "SessionsView", "TopProductsView"]

_P = TypeVar("_P", RevenuePartial, ProductsPartial, FunnelPartial, SessionsPartial)


def _range(request: Request, *, minutes: int | None = None) -> QueryRange:
    until = parse_until(query(request, "until"), now=now_utc())
    return query_range(minutes or parse_minutes(query(request, "minutes")), until)


async def _answer(
    view: View,
    request: Request,
    kind: PartialKind,
    render: Callable[[QueryRange, Partial], dict[str, Any]],
    *,
    minutes: int | None = None,
) -> Response:
    try:
        span = _range(request, minutes=minutes)
    except InvalidQuery as exc:
        return json_error(view, str(exc), status=400)
    try:
        partial = await global_partial(kind, span)
    except AnalyticsUnavailable as exc:
        return json_error(view, f"analytics temporarily unavailable: {exc}", status=503)
    return view.json(render(span, partial))


def _expect(partial: Partial, kind: type[_P]) -> _P:
    if not isinstance(partial, kind):
        raise TypeError(f"expected {kind.__name__}, got {type(partial).__name__}")
    return partial


@app.page("/analytics/revenue")
class RevenueView(View):
    """Revenue and order count per minute and currency, non-empty buckets oldest first."""

    async def get(self, request: Request) -> Response:
        return await _answer(
            self,
            request,
            PartialKind.REVENUE,
            lambda span, p: revenue_answer(span, _expect(p, RevenuePartial)),
        )


@app.page("/analytics/top-products")
class TopProductsView(View):
    """The ``n`` most viewed products of the range, across all partitions."""

    async def get(self, request: Request) -> Response:
        try:
            n = parse_top_n(query(request, "n"))
        except InvalidQuery as exc:
            return json_error(self, str(exc), status=400)
        return await _answer(
            self,
            request,
            PartialKind.PRODUCTS,
            lambda span, p: top_products_answer(span, _expect(p, ProductsPartial), n),
        )


@app.page("/analytics/funnel")
class FunnelView(View):
    """Sessions per funnel step within the range, and the conversion rate."""

    async def get(self, request: Request) -> Response:
        return await _answer(
            self,
            request,
            PartialKind.FUNNEL,
            lambda span, p: funnel_answer(span, _expect(p, FunnelPartial)),
        )


@app.page("/analytics/sessions")
class SessionsView(View):
    """Sessions active at ``until`` (last click less than 30 minutes before) and their mean length."""

    async def get(self, request: Request) -> Response:
        return await _answer(
            self,
            request,
            PartialKind.SESSIONS,
            lambda span, p: sessions_answer(span, _expect(p, SessionsPartial)),
            minutes=SESSION_GAP_MINUTES,
        )
