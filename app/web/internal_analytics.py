"""Worker-to-worker analytics endpoints (not part of DESIGN.md's public API).

``GET /internal/analytics/partials?kind=K&start=S&end=E`` answers this
worker's partial over its active partitions for the epoch-minute range
``[S, E)``; the worker asked by a client calls it on every other member
(:mod:`app.cluster.analytics`). ``GET /internal/analytics/stats`` tells how
many analytics rows this worker's active partitions hold, and how old the
oldest are: operators and tests use it to see expiry at work.
"""

from __future__ import annotations

from faust.web import Request, Response, View

from app.cluster.analytics import (
    INTERNAL_PARTIALS_PATH,
    AnalyticsUnavailable,
    local_partial,
    local_stats,
)
from app.main import app
from app.web.responses import BadRequest, json_error, query
from domain.analytics_partials import PartialKind
from domain.analytics_query import MAX_MINUTES, QueryRange

__all__ = ["PartialsView", "StatsView", "parse_partial_request"]


def parse_partial_request(
    kind: str | None, start: str | None, end: str | None
) -> tuple[PartialKind, QueryRange]:
    """Read the parameters of a partials request; raises BadRequest."""
    try:
        partial_kind = PartialKind(kind or "")
    except ValueError:
        known = ", ".join(k.value for k in PartialKind)
        raise BadRequest(f"kind must be one of {known}") from None
    try:
        span = QueryRange(start=int(start or ""), end=int(end or ""))
    except ValueError:
        raise BadRequest("start and end must be epoch minutes (whole numbers)") from None
    if not 1 <= span.minutes <= MAX_MINUTES:
        raise BadRequest(f"end - start must be from 1 to {MAX_MINUTES} minutes")
    return partial_kind, span


@app.page(INTERNAL_PARTIALS_PATH)
class PartialsView(View):
    """This worker's partial answer, with the partitions it covers."""

    async def get(self, request: Request) -> Response:
        try:
            kind, span = parse_partial_request(
                query(request, "kind"), query(request, "start"), query(request, "end")
            )
        except BadRequest as exc:
            return json_error(self, str(exc), status=exc.status)
        try:
            return self.json(local_partial(kind, span))
        except AnalyticsUnavailable as exc:
            return json_error(self, str(exc), status=503)


@app.page("/internal/analytics/stats")
class StatsView(View):
    """Analytics rows per active partition of this worker."""

    async def get(self, request: Request) -> Response:
        return self.json(local_stats())
