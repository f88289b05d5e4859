"""``GET /orders/{order_id}``, optionally waiting for a status (DESIGN.md).

Served by any worker: ``route_to_owner`` (Faust's table routing) forwards the GET (with its query string)
to the worker owning the order's partition, which answers from its table.
"""

from __future__ import annotations

import time

from faust.web import Request, Response, View

from app.main import app
from app.web.responses import BadRequest, json_error, valid_id
from app.web.routing import route_to_owner
from domain.order_lifecycle import order_view
from domain.order_outputs import OrderStatus
from domain.order_state import OrderState
from tables.order_watch import wait_for_change
from tables.orders import orders_table

__all__ = ["OrderView", "parse_wait"]

#: Longest wait a client may ask for (seconds); keeps connections bounded.
MAX_WAIT_SECONDS = 300.0
DEFAULT_WAIT_SECONDS = 30.0


def parse_wait(request: Request) -> tuple[OrderStatus | None, float]:
    """Read ``wait_for`` and ``timeout``; raises BadRequest for anything unusable."""
    raw_status = request.query.get("wait_for")
    raw_timeout = request.query.get("timeout")
    if raw_status is None:
        if raw_timeout is not None:
            raise BadRequest("timeout is only meaningful with wait_for")
        return None, 0.0
    try:
        status = OrderStatus(raw_status)
    except ValueError:
        known = ", ".join(s.value for s in OrderStatus)
        raise BadRequest(f"unknown status {raw_status[:32]!r}; one of {known}") from None
    if raw_timeout is None:
        return status, DEFAULT_WAIT_SECONDS
    try:
        timeout = float(raw_timeout)
    except ValueError:
        raise BadRequest(f"timeout must be a number of seconds, got {raw_timeout[:32]!r}") from None
    if not 0 <= timeout <= MAX_WAIT_SECONDS:
        raise BadRequest(f"timeout must be between 0 and {MAX_WAIT_SECONDS:g} seconds")
    return status, timeout


def _load(order_id: str) -> OrderState | None:
    stored = orders_table.get(order_id)
    if stored is None:
        return None
    state = OrderState.from_dict(stored)
    return state if state.created is not None and state.status is not None else None


def _reached(state: OrderState, status: OrderStatus) -> bool:
    return any(change.status is status for change in state.history)


@app.page("/orders/{order_id}")
class OrderView(View):
    """The order with its status history; 404 when unknown, 504 when a wait times out."""

    @route_to_owner(orders_table, match_info="order_id")
    async def get(self, request: Request, order_id: str) -> Response:
        try:
            valid_id(order_id, what="order_id")
            wanted, timeout = parse_wait(request)
        except BadRequest as exc:
            return json_error(self, str(exc), status=exc.status)
        state = _load(order_id)
        if wanted is None:
            if state is None:
                return json_error(self, f"unknown order {order_id!r}", status=404)
            return self.json(order_view(state))
        deadline = time.monotonic() + timeout
        while True:
            if state is not None and _reached(state, wanted):
                return self.json(order_view(state))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self.json(
                    {
                        "error": f"order {order_id!r} did not reach {wanted.value} within {timeout:g}s",
                        "status": None if state is None else str(state.status),
                    },
                    status=504,
                )
            await wait_for_change(order_id, min(remaining, 1.0))
            state = _load(order_id)
