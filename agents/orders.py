"""The order lifecycle: ``orders``, ``payments`` and ``shipments`` in one agent.

The three topics are keyed by ``order_id`` and co-partitioned, so one agent
subscribed to all three sees every event of an order on the worker that owns
the order's state. Per event: decode, validate, apply the pure state machine
(:mod:`domain.order_lifecycle`), publish what it decided, then store the state.

Outputs are acknowledged by the broker *before* the new state is written:
after a crash the input is delivered again, and either the state already holds
it (a duplicate: nothing is sent twice in the normal case) or the outputs are
sent again with the same ``version``/``alert_id``; never is a change lost.
"""

from __future__ import annotations

import logging
from typing import Any

from faust.types import EventT

from app.codec import UndecodableValue, decode_json_object, encode_json
from app.dead_letters import DeadLetter, send_dead_letter
from app.main import app
from app.order_watch import notify
from app.topics import alerts_topic, customer_orders_topic, order_pipeline_topic, order_status_topic
from domain.customer_summary import OrderPlaced
from domain.order_events import InvalidEvent, OrderEvent, order_event_from_wire, to_wire
from domain.order_lifecycle import Decision, Rejection, apply_event
from domain.order_state import OrderState
from tables.orders import orders_table

__all__ = ["handle_order_input", "order_lifecycle"]

logger = logging.getLogger(__name__)


def _letter(event: EventT[bytes], error_type: str, error: str, stage: str) -> DeadLetter:
    message = event.message
    return DeadLetter(
        source_topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        error_type=error_type,
        error=error,
        stage=stage,
    )


def _decode(event: EventT[bytes]) -> OrderEvent:
    value = decode_json_object(event.message.value)
    order_event = order_event_from_wire(event.message.topic, value)
    key = event.message.key
    if key is not None and key.decode("utf-8", "replace") != order_event.order_id:
        raise InvalidEvent(
            f"key {key[:64]!r} differs from order_id {order_event.order_id!r}: "
            "the event is on the wrong partition"
        )
    return order_event


def _load(order_id: str) -> OrderState | None:
    stored: dict[str, Any] | None = orders_table.get(order_id)
    return None if stored is None else OrderState.from_dict(stored)


def _rejection_letter(source: EventT[bytes], rejection: Rejection) -> DeadLetter:
    """A rejected event is either the input itself or one that waited in state.

    An event that waited has no offset of its own any more (it was acknowledged
    when it was parked), so ``offset`` is -1 and the value is its wire form.
    """
    if rejection.event.event_id == _event_id(source):
        return _letter(source, "Rejected", rejection.reason, "apply")
    return DeadLetter(
        source_topic=rejection.event.topic,
        partition=source.message.partition,
        offset=-1,
        key=rejection.event.order_id.encode(),
        value=encode_json(to_wire(rejection.event)),
        error_type="Rejected",
        error=rejection.reason,
        stage="pending",
    )


def _placed(previous: OrderState | None, decision: Decision) -> OrderPlaced | None:
    """The created order, when this decision is the one that applied ``order_created``."""
    created = decision.state.facts.created
    if created is None or (previous is not None and previous.facts.created is not None):
        return None
    if created.customer_id is None or created.currency is None or created.total is None:
        return None
    return OrderPlaced(
        order_id=created.order_id,
        customer_id=created.customer_id,
        currency=created.currency,
        total=created.total,
        occurred_at=created.occurred_at,
    )


async def _publish(previous: OrderState | None, decision: Decision, source: EventT[bytes]) -> None:
    """Send what the decision says, and wait for the broker to acknowledge it."""
    pending = []
    for change in decision.changes:
        value = encode_json(change.to_wire())
        pending.append(await order_status_topic.send(key=change.order_id, value=value))
    for alert in decision.alerts:
        value = encode_json(alert.to_wire())
        pending.append(await alerts_topic.send(key=alert.order_id, value=value))
    placed = _placed(previous, decision)
    if placed is not None:
        value = encode_json(placed.to_dict())
        pending.append(await customer_orders_topic.send(key=placed.customer_id, value=value))
    for rejection in decision.rejected:
        await send_dead_letter(_rejection_letter(source, rejection))
    for future in pending:
        await future


def _event_id(event: EventT[bytes]) -> str | None:
    try:
        value = decode_json_object(event.message.value)
    except UndecodableValue:
        return None
    event_id = value.get("event_id")
    return event_id if isinstance(event_id, str) else None


async def handle_order_input(event: EventT[bytes]) -> None:
    """Process one input record of the order pipeline; never raises for bad input."""
    try:
        order_event = _decode(event)
    except UndecodableValue as exc:
        await send_dead_letter(_letter(event, type(exc).__name__, str(exc), "decode"))
        return
    except InvalidEvent as exc:
        await send_dead_letter(_letter(event, type(exc).__name__, str(exc), "validate"))
        return
    previous = _load(order_event.order_id)
    decision = apply_event(previous, order_event)
    if decision.duplicate:
        return
    await _publish(previous, decision, event)
    orders_table[order_event.order_id] = decision.state.to_dict()
    notify(order_event.order_id)


@app.agent(order_pipeline_topic, name="order-lifecycle")
async def order_lifecycle(stream: Any) -> None:
    """One order's events meet here, whatever topic they came from."""
    async for event in stream.events():
        await handle_order_input(event)
