"""Worker-to-worker analytics endpoints (not part of DESIGN.md's public API; they need
the cluster token when one is set, :mod:`app.web.access`).

``GET /internal/analytics/partials?kind=K&start=S&minutes=M`` answers this
worker's partial over its active partitions for the epoch-minute range
``[S, S + M)``; the worker asked by a client calls it on every other member
(:mod:`app.cluster.analytics`). ``GET /internal/analytics/stats`` tells how
many analytics rows this worker's active partitions hold, and how old the
oldest are: operators and tests use it to see expiry at work.
"""

from __future__ import annotations

import re
from typing import Final

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
from domain.analytics_query import (
    FIRST_MINUTE,
    LAST_MINUTE,
    MAX_MINUTES,
    InvalidQuery,
    QueryRange,
    parse_minutes,
)

__all__ = ["LAST_START", "PartialsView", "StatsView", "parse_partial_request"]

_INTEGER: Final = re.compile(r"-?[0-9]{1,12}")
#: The last ``start`` whose longest range still ends within the year 9999.
LAST_START: Final = LAST_MINUTE - MAX_MINUTES


def parse_partial_request(
    kind: str | None, start: str | None, minutes: str | None
) -> tuple[PartialKind, QueryRange]:
    """Read the parameters of a partials request; raises BadRequest.

    ``start`` and ``minutes`` (not ``start`` and ``end``): each has its own
    bounds, which the OpenAPI document can state, so every request the document
    allows is answered.
    """
    try:
        partial_kind = PartialKind(kind or "")
    except ValueError:
        known = ", ".join(k.value for k in PartialKind)
        raise BadRequest(f"kind must be one of {known}") from None
    if start is None or not _INTEGER.fullmatch(start):
        raise BadRequest("start must be an epoch minute (a whole number)")
    if not FIRST_MINUTE <= int(start) <= LAST_START:
        raise BadRequest(f"start must be an epoch minute from {FIRST_MINUTE} to {LAST_START}")
    try:
        length = parse_minutes(minutes or "")
    except InvalidQuery as exc:
        raise BadRequest(str(exc)) from None
    return partial_kind, QueryRange(start=int(start), end=int(start) + length)


@app.page(INTERNAL_PARTIALS_PATH)
class PartialsView(View):
    """This worker's partial answer, with the partitions it covers."""

    async def get(self, request: Request) -> Response:
        try:
            kind, span = parse_partial_request(
                query(request, "kind"), query(request, "start"), query(request, "minutes")
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
