"""Building blocks of ShopStream's OpenAPI 3.1 document: helpers and component schemas.

Split from :mod:`app.web.openapi` (which holds the paths and serves the
document) to keep both readable. Field names are DESIGN.md's, exactly; status
values come from :class:`domain.order_outputs.OrderStatus` so the enum cannot
drift from the code.
"""

from __future__ import annotations

from typing import Any, Final

from app.kafka.topic_names import INPUT_TOPICS, ORDER_STATUS
from app.monitoring.operations import LATEST
from app.schemas.documents import property_schema
from domain.order_outputs import OrderStatus

__all__ = [
    "BAD_INPUT",
    "MINUTES",
    "SCHEMAS",
    "SECURITY_SCHEMES",
    "STATUSES",
    "TIME",
    "UNTIL",
    "busy_response",
    "error_response",
    "get_path",
    "internal_path",
    "json_response",
    "obj",
    "param",
    "ref",
]

JSON_MEDIA = "application/json"
MONEY = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["37.50"]}
TIME = {"type": "string", "format": "date-time", "examples": ["2026-11-21T10:00:00.000Z"]}
COUNT = {"type": "integer", "minimum": 0}
STATUSES = [status.value for status in OrderStatus]


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Any], *, required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


def json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON_MEDIA: {"schema": schema}}}


def error_response(description: str) -> dict[str, Any]:
    return json_response(description, ref("Error"))


def param(
    name: str,
    where: str,
    schema: dict[str, Any],
    description: str,
    *,
    required: bool | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path" if required is None else required,
        "schema": schema,
        "description": description,
    }


def busy_response(what: str) -> dict[str, Any]:
    """503 for a connection beyond its cap: the client should retry after ``Retry-After`` s."""
    response = error_response(f"{what}; retry after Retry-After seconds.")
    response["headers"] = {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    }
    return response


def get_path(summary: str, responses: dict[str, Any], *, params: list[Any] | None = None) -> Any:
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if params:
        operation["parameters"] = params
    return {"get": operation}


def internal_path(summary: str, *, params: list[Any] | None = None) -> Any:
    """A path between workers: served and documented, but its shape is not part of the contract."""
    item = get_path(
        summary,
        {
            "200": json_response(
                "Internal answer (shape may change between versions).", {"type": "object"}
            ),
            "400": BAD_INPUT,
            "403": error_response(
                "No or a wrong X-ShopStream-Cluster-Token (required when the worker has one)."
            ),
            "503": error_response("This worker cannot answer right now (rebalancing, recovery)."),
        },
        params=params,
    )
    item["get"]["tags"] = ["internal"]
    item["get"]["x-internal"] = True
    item["get"]["security"] = [{"clusterToken": []}]
    return item


MINUTES = param(
    "minutes",
    "query",
    {"type": "integer", "minimum": 1, "maximum": 1440, "default": 60},
    "Length of the range in minutes of event time.",
)
UNTIL = param(
    "until",
    "query",
    {"type": "string", "format": "date-time", "examples": ["2026-11-21T10:00:00.000Z"]},
    "End of the range (exclusive), an RFC 3339 time with any offset; a time inside a minute "
    "is rounded up to the next whole minute (state is kept per minute); default: now, rounded "
    "up. The range is cut to the years 1 to 9999; the answer's from and until say which range "
    "was counted.",
)
RANGE = {"from": TIME, "until": TIME}
BAD_INPUT = error_response("Malformed or out-of-range parameter.")

#: Worker-to-worker paths (tag ``internal``) need the group's token when it has one.
SECURITY_SCHEMES: Final[dict[str, Any]] = {
    "clusterToken": {
        "type": "apiKey",
        "in": "header",
        "name": "X-ShopStream-Cluster-Token",
        "description": "SHOPSTREAM_CLUSTER_TOKEN, the secret the workers of one group share.",
    }
}

SCHEMAS: Final[dict[str, Any]] = {
    "Error": obj({"error": {"type": "string"}}),
    "OrderStatus": {"type": "string", "enum": STATUSES},
    # The history holds order-status changes: the fields of the topic's JSON Schema document.
    "StatusChange": obj(
        {
            name: property_schema(ORDER_STATUS, name)
            for name in ("status", "version", "caused_by", "occurred_at")
        }
    ),
    "Order": obj(
        {
            "order_id": {"type": "string"},
            "status": ref("OrderStatus"),
            "customer_id": {"type": ["string", "null"]},
            "total": MONEY,
            "currency": {"type": "string", "examples": ["EUR"]},
            "paid_amount": MONEY,
            "version": COUNT,
            "history": {"type": "array", "items": ref("StatusChange")},
        }
    ),
    "Customer": obj(
        {
            "customer_id": {"type": "string"},
            "orders": COUNT,
            "revenue": {"type": "object", "additionalProperties": MONEY},
            "last_order_at": {"type": ["string", "null"], "format": "date-time"},
        }
    ),
    "Revenue": obj(
        RANGE
        | {
            "buckets": {
                "type": "array",
                "description": "Non-empty minute buckets, oldest first.",
                "items": obj(
                    {"start": TIME, "currency": {"type": "string"}, "revenue": MONEY}
                    | {"orders": COUNT}
                ),
            }
        }
    ),
    "TopProducts": obj(
        RANGE
        | {
            "products": {
                "type": "array",
                "description": "Views descending, then sku ascending; purchases = units ordered.",
                "items": obj(
                    {"sku": {"type": "string"}, "views": COUNT, "add_to_cart": COUNT}
                    | {"purchases": COUNT}
                ),
            }
        }
    ),
    "Funnel": obj(
        RANGE
        | {
            "steps": {
                "type": "array",
                "items": obj(
                    {
                        "step": {
                            "type": "string",
                            "enum": ["product_view", "add_to_cart", "checkout_started", "purchase"],
                        },
                        "sessions": COUNT,
                    }
                ),
            },
            "conversion_rate": {"type": "number", "minimum": 0},
        }
    ),
    "Sessions": obj(
        {
            "until": TIME,
            "active_sessions": COUNT,
            "average_duration_seconds": {"type": "number", "minimum": 0},
        }
    ),
    "OrderStatusCounts": obj(
        {
            "scope": {"type": "string", "enum": ["cluster", "local"]},
            "counts": {
                "type": "object",
                "description": "Orders per current status; every status is present.",
                "properties": {status: COUNT for status in STATUSES},
                "additionalProperties": COUNT,
            },
            "total": COUNT,
            "partitions": obj(
                {
                    "counted": {"type": "array", "items": COUNT},
                    "expected": COUNT,
                    "missing": {"type": "array", "items": COUNT},
                    "overlapping": {"type": "array", "items": COUNT},
                }
            ),
            "unreachable_workers": {"type": "array", "items": {"type": "string"}},
            "complete": {
                "type": "boolean",
                "description": "Every partition counted exactly once and every worker answered.",
            },
        }
    ),
    "Health": obj({"status": {"type": "string", "const": "ok"}}),
    "Ready": obj(
        {
            "ready": {"type": "boolean"},
            "recovery_done": {"type": "boolean"},
            "rebalancing": {"type": "boolean"},
            "assigned_partitions": {"type": "array", "items": {"type": "string"}},
        }
    ),
    "Operations": obj(
        {
            "worker": {"type": "string", "description": "This worker's URL."},
            "generated_at": TIME,
            "consumer_lag": {
                "type": "object",
                "description": "Per input topic: records on this worker's assigned partitions "
                "not yet read by its agents.",
                "properties": {topic: COUNT for topic in INPUT_TOPICS},
                "required": list(INPUT_TOPICS),
                "additionalProperties": False,
            },
            "events_per_second": {
                "type": "object",
                "description": "Per input topic: events this worker handled per second, over "
                "the last 10 s.",
                "properties": {topic: {"type": "number", "minimum": 0} for topic in INPUT_TOPICS},
                "required": list(INPUT_TOPICS),
                "additionalProperties": False,
            },
            "dead_letters": obj(
                {
                    "by_stage": {
                        "type": "object",
                        "description": "Dead letters this worker sent since it started, by stage.",
                        "additionalProperties": COUNT,
                    },
                    "latest": {
                        "type": "array",
                        "description": f"The latest (at most {LATEST}), newest first.",
                        "items": obj(
                            {
                                "at": TIME,
                                "stage": {"type": "string"},
                                "error_type": {"type": "string"},
                                "error": {"type": "string"},
                                "source_topic": {"type": "string"},
                                "partition": {"type": "integer"},
                                "offset": {"type": "integer"},
                            }
                        ),
                    },
                }
            ),
            "alerts": {
                "type": "array",
                "description": f"The latest alerts this worker published (at most {LATEST}), "
                "newest first.",
                "items": obj(
                    {
                        "occurred_at": {"type": ["string", "null"]},
                        "kind": {"type": "string"},
                        "order_id": {"type": ["string", "null"]},
                        "detail": {"type": "string"},
                    }
                ),
            },
        }
    ),
    "DashboardSnapshot": obj(
        {
            "generated_at": TIME,
            "window_minutes": COUNT,
            "revenue": {"oneOf": [ref("Revenue"), {"type": "null"}]},
            "top_products": {"oneOf": [ref("TopProducts"), {"type": "null"}]},
            "funnel": {"oneOf": [ref("Funnel"), {"type": "null"}]},
            "sessions": {"oneOf": [ref("Sessions"), {"type": "null"}]},
            "order_status": {"oneOf": [ref("OrderStatusCounts"), {"type": "null"}]},
            "operations": {"oneOf": [ref("Operations"), {"type": "null"}]},
            "unavailable": {
                "type": "object",
                "description": "Sections left null, with the reason (e.g. 'HTTP 404').",
                "additionalProperties": {"type": "string"},
            },
        }
    ),
}
