"""``GET /orders/{order_id}``, optionally waiting for a status (DESIGN.md).

Served by any worker: ``route_to_owner`` (Faust's table routing) forwards the GET (with its query string)
to the worker owning the order's partition, which answers from its table.

A wait (``wait_for``) holds its connection; at most ``SHOPSTREAM_MAX_LONG_POLLS``
waits are held at once (one more is answered 503 with ``Retry-After``), and a
wait ends as soon as its client hangs up (the driver cancels the handler).
"""

from __future__ import annotations

import re
import time
from typing import Final, cast

from faust.web import Request, Response, View

from app.main import app, settings
from app.web.access import Admission, AtCapacity
from app.web.responses import BadRequest, json_error, valid_id
from app.web.routing import route_to_owner
from domain.order_lifecycle import order_view
from domain.order_outputs import OrderStatus
from domain.order_state import OrderState
from tables.order_watch import wait_for_change
from tables.orders import current_order, orders_table

__all__ = ["OrderView", "long_polls", "parse_wait"]

#: Longest wait a client may ask for (seconds); keeps connections bounded.
MAX_WAIT_SECONDS = 300.0
DEFAULT_WAIT_SECONDS = 30.0
_NUMBER: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
#: Waits held at once; beyond ``SHOPSTREAM_MAX_LONG_POLLS`` a new one gets a 503.
long_polls = Admission("long_poll", settings.max_long_polls)


def parse_wait(request: Request) -> tuple[OrderStatus | None, float]:
    """Read ``wait_for`` and ``timeout``; raises BadRequest for anything unusable.

    ``timeout`` is checked even without ``wait_for`` (a bad value is a 400
    either way) but only means something with it, as the OpenAPI document says.
    """
    raw_status = request.query.get("wait_for")
    raw_timeout = request.query.get("timeout")
    timeout = DEFAULT_WAIT_SECONDS if raw_timeout is None else _seconds(raw_timeout)
    if raw_status is None:
        return None, 0.0
    try:
        status = OrderStatus(raw_status)
    except ValueError:
        known = ", ".join(s.value for s in OrderStatus)
        raise BadRequest(f"unknown status {raw_status[:32]!r}; one of {known}") from None
    return status, timeout


def _seconds(raw: str) -> float:
    """A JSON number from 0 to :data:`MAX_WAIT_SECONDS` (not ``inf``, ``nan`` or ``1_0``)."""
    if not _NUMBER.fullmatch(raw):
        raise BadRequest(f"timeout must be a number of seconds, got {raw[:32]!r}")
    timeout = float(raw)
    if not 0 <= timeout <= MAX_WAIT_SECONDS:
        raise BadRequest(f"timeout must be between 0 and {MAX_WAIT_SECONDS:g} seconds")
    return timeout


def _load(order_id: str) -> OrderState | None:
    """The newest state, decided but perhaps not yet stored (``tables.orders.current_order``)."""
    state = current_order(order_id)
    if state is None:
        return None
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
        if state is not None and _reached(state, wanted):
            return self.json(order_view(state))  # nothing to wait for: no slot needed
        try:
            with long_polls.slot():
                return await self._wait(order_id, state, wanted, timeout)
        except AtCapacity as full:
            return cast(Response, full.response())

    async def _wait(
        self, order_id: str, state: OrderState | None, wanted: OrderStatus, timeout: float
    ) -> Response:
        """Answer once the order reached ``wanted``, or 504 after ``timeout`` seconds."""
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
