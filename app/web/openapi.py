"""``GET /openapi.json``: the whole HTTP API as an OpenAPI 3.1 document.

Hand-written on purpose: DESIGN.md is the contract, and this document spells
it out for clients (field names exactly as DESIGN.md has them, money as decimal
strings, times as ISO-8601 UTC strings) plus the paths DESIGN.md leaves to the
code (``/analytics/order-status-counts``, ``/dashboard/events``, ``/static``,
this document). The component schemas live in :mod:`app.web.openapi_schemas`.
``tests/unit/test_web_routes.py`` checks that the
paths here and the routes on the built web server are the same set, so a new
view without documentation fails the build.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any, Final

from faust.web import Request, Response, View

from app.main import app
from app.web.internal_analytics import LAST_START
from app.web.openapi_schemas import (
    BAD_INPUT,
    MINUTES,
    SCHEMAS,
    SECURITY_SCHEMES,
    UNTIL,
    busy_response,
    error_response,
    get_path,
    internal_path,
    json_response,
    obj,
    param,
    ref,
)
from app.web.operations import OPERATIONS_PATH
from app.web.order_status import INTERNAL_STATUS_COUNTS_PATH
from domain.analytics_query import FIRST_MINUTE, MAX_MINUTES

__all__ = ["OPENAPI_PATH", "openapi_document"]

OPENAPI_PATH: Final = "/openapi.json"

#: While the group cannot give a complete answer (rebalancing, a worker down) analytics say 503.
_UNAVAILABLE = error_response("Not every partition could be counted right now; retry.")


def _analytics_responses(ok: dict[str, Any]) -> dict[str, Any]:
    return {"200": ok, "400": BAD_INPUT, "503": _UNAVAILABLE}


_ID = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"}

PATHS: Final[dict[str, Any]] = {
    "/orders/{order_id}": get_path(
        "An order with its status history; any worker answers (forwarded to the owner).",
        {
            "200": json_response("The order.", ref("Order")),
            "400": BAD_INPUT,
            "404": error_response("Unknown order."),
            "504": json_response(
                "wait_for: the order did not reach the status in time.",
                obj(
                    {"error": {"type": "string"}, "status": {"type": ["string", "null"]}},
                    required=["error"],
                ),
            ),
            "503": busy_response(
                "The owner of the order is not known or not reachable right now (rebalancing), "
                "or wait_for: this worker holds SHOPSTREAM_MAX_LONG_POLLS waits already"
            ),
        },
        params=[
            param("order_id", "path", _ID, "The order id."),
            param("wait_for", "query", ref("OrderStatus"), "Wait until this status."),
            param(
                "timeout",
                "query",
                {"type": "number", "minimum": 0, "maximum": 300, "default": 30},
                "Seconds to wait, from 0 to 300 (checked always, used with wait_for only). "
                "The wait ends early when the client hangs up.",
            ),
        ],
    ),
    "/customers/{customer_id}": get_path(
        "Orders created by a customer and their revenue per currency.",
        {
            "200": json_response("The customer summary.", ref("Customer")),
            "400": BAD_INPUT,
            "404": error_response("Unknown customer."),
        },
        params=[param("customer_id", "path", _ID, "The customer id.")],
    ),
    "/analytics/revenue": get_path(
        "Revenue (sum of created orders' totals) and order count per minute and currency.",
        _analytics_responses(json_response("Minute buckets.", ref("Revenue"))),
        params=[MINUTES, UNTIL],
    ),
    "/analytics/top-products": get_path(
        "The N most viewed products over the range, across all partitions.",
        _analytics_responses(json_response("Products.", ref("TopProducts"))),
        params=[
            param(
                "n",
                "query",
                {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
                "How many.",
            ),
            MINUTES,
            UNTIL,
        ],
    ),
    "/analytics/funnel": get_path(
        "Distinct sessions reaching each step, and the conversion rate.",
        _analytics_responses(json_response("The funnel.", ref("Funnel"))),
        params=[MINUTES, UNTIL],
    ),
    "/analytics/sessions": get_path(
        "Active sessions (inactivity gap 30 minutes) and their average length.",
        _analytics_responses(json_response("Sessions.", ref("Sessions"))),
        params=[UNTIL],
    ),
    "/analytics/order-status-counts": get_path(
        "Orders per current status (all time). scope=cluster (default) adds every worker's "
        "answer; scope=local counts this worker's active partitions only.",
        {
            "200": json_response("Counts.", ref("OrderStatusCounts")),
            "400": BAD_INPUT,
            "503": error_response("scope=local: the local scan failed (rebalancing); retry."),
        },
        params=[
            param(
                "scope",
                "query",
                {"type": "string", "enum": ["cluster", "local"], "default": "cluster"},
                "Whose partitions to count.",
            )
        ],
    ),
    OPERATIONS_PATH: get_path(
        "What an operator needs when something is wrong, for this worker: consumer lag and "
        "events per second per input topic, dead letters by stage with the latest reasons, "
        "the latest alerts (also in /metrics and on the dashboard).",
        {"200": json_response("This worker's figures.", ref("Operations"))},
    ),
    "/health": get_path("Liveness.", {"200": json_response("Alive.", ref("Health"))}),
    "/ready": get_path(
        "Readiness: table recovery done and partitions assigned.",
        {
            "200": json_response("Ready.", ref("Ready")),
            "503": json_response("Not ready yet.", ref("Ready")),
        },
    ),
    "/metrics": get_path(
        "Prometheus text format: Faust's sensor metrics (faust_*) and ShopStream's (shopstream_*).",
        {
            "200": {
                "description": "Metrics.",
                "content": {"text/plain; version=0.0.4": {"schema": {"type": "string"}}},
            }
        },
    ),
    "/": get_path(
        "The live dashboard page.",
        {"200": {"description": "HTML.", "content": {"text/html": {"schema": {"type": "string"}}}}},
    ),
    "/static/{name}": get_path(
        "The dashboard's script and stylesheet.",
        {
            "200": {
                "description": "The file.",
                "content": {
                    "text/css": {"schema": {"type": "string"}},
                    "text/javascript": {"schema": {"type": "string"}},
                },
            },
            "404": error_response("No such file."),
        },
        params=[
            param("name", "path", {"type": "string", "enum": ["dashboard.css", "dashboard.js"]}, "")
        ],
    ),
    "/dashboard/events": get_path(
        "Server-sent events: first 'retry: 3000', then every ~2 s an event 'snapshot' whose "
        "data (one line of JSON) is a DashboardSnapshot: this worker's API answers, composed "
        "over loopback.",
        {
            "200": {
                "description": "An endless text/event-stream; each event's data is a "
                "DashboardSnapshot (components/schemas).",
                "content": {
                    "text/event-stream": {
                        "schema": {"type": "string"},
                        "x-event-data-schema": ref("DashboardSnapshot"),
                    }
                },
            },
            "503": busy_response("This worker serves SHOPSTREAM_MAX_SSE_CLIENTS streams already"),
        },
    ),
    "/internal/analytics/partials": internal_path(
        "Worker-to-worker: this worker's partial analytics answer over its active partitions "
        "for epoch minutes [start, end); the worker asked by a client merges everyone's.",
        params=[
            param(
                "kind",
                "query",
                {"type": "string", "enum": ["revenue", "products", "funnel", "sessions"]},
                "Which analytics answer.",
                required=True,
            ),
            param(
                "start",
                "query",
                {"type": "integer", "minimum": FIRST_MINUTE, "maximum": LAST_START},
                "First epoch minute of the range (a minute of the years 1 to 9999).",
                required=True,
            ),
            param(
                "minutes",
                "query",
                {"type": "integer", "minimum": 1, "maximum": MAX_MINUTES},
                "Length of the range in minutes.",
                required=True,
            ),
        ],
    ),
    INTERNAL_STATUS_COUNTS_PATH: internal_path(
        "Worker-to-worker: this worker's order-status counts (the scope=local answer of "
        "/analytics/order-status-counts); the worker asked by a client adds everyone's."
    ),
    "/internal/analytics/stats": internal_path(
        "Worker-to-worker and operators: analytics rows held per active partition of this worker."
    ),
    OPENAPI_PATH: get_path(
        "This document.",
        {"200": json_response("OpenAPI 3.1.", {"type": "object"})},
    ),
}


def _version() -> str:
    try:
        return metadata.version("shopstream")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every path the web server serves (besides Faust's /router)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ShopStream HTTP API",
            "version": _version(),
            "description": (
                "Real-time order lookups and analytics from ShopStream's Faust workers. Money "
                "is a decimal string, times are ISO-8601 UTC with milliseconds, analytics work "
                "in event time over [until - minutes, until). Bad input is a 4xx with "
                '{"error": "..."}, never a 500.'
            ),
        },
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "securitySchemes": SECURITY_SCHEMES},
    }


@app.page(OPENAPI_PATH)
class OpenApiView(View):
    """The API description, for clients and for humans with a viewer."""

    async def get(self, request: Request) -> Response:
        return self.json(openapi_document())
