"""``GET /customers/{customer_id}``: orders created and revenue per currency."""

from __future__ import annotations

from faust.web import Request, Response, View

from app.main import app
from app.web.responses import BadRequest, json_error, valid_id
from app.web.routing import route_to_owner
from domain.customer_summary import customer_view
from tables.customers import customers_table, stored_customer

__all__ = ["CustomerView"]


@app.page("/customers/{customer_id}")
class CustomerView(View):
    """``GET /customers/{customer_id}``: orders created and revenue per currency."""

    @route_to_owner(customers_table, match_info="customer_id")
    async def get(self, request: Request, customer_id: str) -> Response:
        try:
            valid_id(customer_id, what="customer_id")
        except BadRequest as exc:
            return json_error(self, str(exc), status=exc.status)
        stored = stored_customer(customer_id)  # rows not written yet included
        if stored is None:
            return json_error(self, f"unknown customer {customer_id!r}", status=404)
        return self.json(customer_view(stored))
