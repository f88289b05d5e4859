"""HTTP views served by Faust's aiohttp web server (DESIGN.md, "HTTP API").

Lookups of keyed state use ``@app.table_route``: the worker asked answers from
its own table partition or forwards the GET to the worker that owns the key.
"""

from __future__ import annotations

from typing import Any

from faust.web import Request, Response, View

from app.http import BadRequest, json_error, valid_id
from app.main import app
from domain.customer_summary import CustomerSummary, customer_view
from tables.customers import customers_table

__all__ = ["CustomerView", "HealthView", "ReadyView"]


@app.page("/health")
class HealthView(View):
    """Liveness: the process runs and its event loop answers."""

    async def get(self, request: Request) -> Response:
        return self.json({"status": "ok"})


def readiness() -> dict[str, Any]:
    """Ready = table recovery finished and partitions are assigned (not rebalancing)."""
    recovery_done = app.tables.recovery.completed.is_set()
    assignment = (
        sorted(f"{tp.topic}:{tp.partition}" for tp in app.consumer.assignment())
        if app.consumer is not None
        else []
    )
    return {
        "ready": bool(recovery_done and assignment and not app.rebalancing),
        "recovery_done": recovery_done,
        "rebalancing": bool(app.rebalancing),
        "assigned_partitions": assignment,
    }


@app.page("/ready")
class ReadyView(View):
    """Readiness for load balancers and tests: 200 when ready, 503 otherwise."""

    async def get(self, request: Request) -> Response:
        state = readiness()
        return self.json(state, status=200 if state["ready"] else 503)


@app.page("/customers/{customer_id}")
class CustomerView(View):
    """``GET /customers/{customer_id}``: orders created and revenue per currency."""

    @app.table_route(table=customers_table, match_info="customer_id")
    async def get(self, request: Request, customer_id: str) -> Response:
        try:
            valid_id(customer_id, what="customer_id")
        except BadRequest as exc:
            return json_error(self, str(exc), status=exc.status)
        stored = customers_table.get(customer_id)
        if stored is None:
            return json_error(self, f"unknown customer {customer_id!r}", status=404)
        return self.json(customer_view(CustomerSummary.from_dict(stored)))
