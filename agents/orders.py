"""The order lifecycle: ``orders``, ``payments``, ``shipments`` and commands in one agent.

The three topics are keyed by ``order_id`` and co-partitioned, so one agent
subscribed to all of them sees every event of an order on the worker that owns
the order's state. Per record: decode, validate, apply the pure state machine
(:mod:`domain.order_lifecycle`), publish what it decided
(:mod:`agents.order_outputs`), then store the state. Commands from other stages
(fraud holds, pending expiry) arrive on a co-partitioned internal topic and are
applied here too, so each order has exactly one writer.

Bad input never stops the stream: undecodable or invalid records, and records
the domain refuses, go to ``dead-letters`` with the reason. Anything else (the
broker refusing a send, a table write failing) is not the record's fault and
propagates: the worker then stops without committing (:mod:`app.kafka.fatal`),
and the record is delivered again after the restart instead of being lost.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from faust.types import EventT

from agents.order_outputs import publish_decision
from app.kafka.codec import UndecodableValue, decode_value
from app.kafka.dead_letters import letter_for, send_dead_letter
from app.kafka.topics import ORDER_COMMANDS, order_pipeline_topic
from app.main import app, settings
from app.monitoring.metrics import record_event_processed
from app.schemas.writer_schemas import SchemaViolation, UnknownSchemaId, shared_writer_schemas
from domain.order_commands import ExpirePending, HoldOrder, InvalidCommand, command_from_wire
from domain.order_events import InvalidEvent, OrderEvent, order_event_from_wire
from domain.order_lifecycle import (
    Decision,
    OrderLifecycleError,
    apply_event,
    apply_hold,
    expire_pending,
)
from domain.order_state import CorruptState, OrderState
from tables.order_watch import notify
from tables.orders import orders_table

__all__ = ["handle_order_input", "order_lifecycle"]

logger = logging.getLogger(__name__)

#: How long an early event may wait for its prerequisite before it is dead-lettered.
PENDING_MAX_WAIT = timedelta(hours=settings.pending_max_wait_hours)


def _decode_event(topic: str, value: dict[str, Any], key: bytes | None) -> OrderEvent:
    order_event = order_event_from_wire(topic, value)
    if key is None:  # a keyless record lands on any partition, away from the order's state
        raise InvalidEvent(f"no key: the record must be keyed by order_id {order_event.order_id!r}")
    if key.decode("utf-8", "replace") != order_event.order_id:
        raise InvalidEvent(
            f"key {key[:64]!r} differs from order_id {order_event.order_id!r}: "
            "the event is on the wrong partition"
        )
    return order_event


def _load(order_id: str) -> OrderState | None:
    stored: dict[str, Any] | None = orders_table.get(order_id)
    return None if stored is None else OrderState.from_dict(stored)


async def _commit_decision(
    order_id: str,
    previous: OrderState | None,
    decision: Decision,
    source: EventT[bytes],
    input_event_id: str | None,
) -> None:
    if decision.duplicate:
        if previous is not None:
            # Re-assert the stored state: after a crash the local store may hold a
            # write whose changelog record was lost; writing it again heals the
            # changelog, so a worker recovering from it later sees the same state.
            orders_table[order_id] = previous.to_dict()
        return
    await publish_decision(previous, decision, source, input_event_id)
    orders_table[order_id] = decision.state.to_dict()
    notify(order_id)


def _decide_command(value: dict[str, Any]) -> tuple[str, OrderState | None, Decision]:
    command = command_from_wire(value)
    previous = _load(command.order_id)
    if isinstance(command, HoldOrder):
        decision = apply_hold(
            previous, command.order_id, command.reason, command.caused_by, command.occurred_at
        )
    elif isinstance(command, ExpirePending):
        if previous is None:
            return (
                command.order_id,
                previous,
                Decision(state=OrderState(order_id=command.order_id), duplicate=True),
            )
        decision = expire_pending(previous, command.now, PENDING_MAX_WAIT)
    return command.order_id, previous, decision


async def handle_order_input(event: EventT[bytes]) -> None:
    """Process one record of the order pipeline; bad input is dead-lettered, never raised."""
    message = event.message
    record_event_processed(message.topic)
    try:
        decoded = decode_value(message.value)
    except UndecodableValue as exc:
        await send_dead_letter(letter_for(message, exc, stage="decode"))
        return
    writer_schemas = shared_writer_schemas()
    await writer_schemas.prepare([decoded.schema_id])  # waits while the registry is down
    try:
        writer_schemas.check(decoded)
    except UnknownSchemaId as exc:
        await send_dead_letter(letter_for(message, exc, stage="decode"))
        return
    except SchemaViolation as exc:
        await send_dead_letter(letter_for(message, exc, stage="validate"))
        return
    value = decoded.value
    event_id = value.get("event_id") if isinstance(value.get("event_id"), str) else None
    try:
        if message.topic == ORDER_COMMANDS:
            order_id, previous, decision = _decide_command(value)
        else:
            order_event = _decode_event(message.topic, value, message.key)
            order_id, previous = order_event.order_id, _load(order_event.order_id)
            decision = apply_event(previous, order_event)
    except (InvalidEvent, InvalidCommand) as exc:
        await send_dead_letter(letter_for(message, exc, stage="validate"))
        return
    except (OrderLifecycleError, CorruptState) as exc:
        await send_dead_letter(letter_for(message, exc, stage="apply"))
        return
    await _commit_decision(order_id, previous, decision, event, event_id)


@app.agent(order_pipeline_topic, name="order-lifecycle")
async def order_lifecycle(stream: Any) -> None:
    """One order's events meet here, whatever topic they came from."""
    async for event in stream.events():
        await handle_order_input(event)
