"""What the order pipeline publishes for one decision, and how it is made safe.

Outputs are sent and *acknowledged by the broker* before the agent writes the
new state (:mod:`agents.orders` collects a batch's outputs as it decides them,
hands them over in whole record batches and waits for their acknowledgements
once, with :func:`await_acknowledged`): after
a crash the input is delivered again and either the state already holds it (a
duplicate: nothing is sent twice) or the outputs are sent again with the same
``version`` / ``alert_id`` / ``event_id``; a status change is never lost.
Consumers identify a change by ``(order_id, version)``.
"""

from __future__ import annotations

from typing import Any

from faust.types import EventT

from app.faust_patches.record_batches import OutputBatches
from app.kafka.analytics_topics import SESSION_PURCHASES, session_purchase_record
from app.kafka.codec import encode_json
from app.kafka.dead_letters import DeadLetter, letter_for
from app.kafka.topic_names import ALERTS, ORDER_STATUS
from app.kafka.topics import customer_orders_topic
from app.monitoring.metrics import record_status_change
from app.monitoring.operations import record_alert
from app.schemas.output import encode_output
from domain.order_events import OrderEvent, to_wire
from domain.order_lifecycle import Decision, Rejection
from domain.order_state import OrderState

__all__ = ["await_acknowledged", "newly_created", "publish_decision", "rejection_letter"]

#: The internal topic of created orders re-keyed by customer.
CUSTOMER_ORDERS = customer_orders_topic.get_topic_name()


def rejection_letter(
    source: EventT[bytes], input_event_id: str | None, rejection: Rejection
) -> DeadLetter:
    """A rejected event is either the input itself or one that waited in state.

    An event that waited has no offset of its own any more (it was acknowledged
    when it was parked), so ``offset`` is -1 and the value is its wire form.
    """
    if rejection.event.event_id == input_event_id:
        return letter_for(source.message, rejection.reason, stage="apply", error_type="Rejected")
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


def newly_created(previous: OrderState | None, decision: Decision) -> OrderEvent | None:
    """The ``order_created`` event, when this decision is the one that applied it."""
    created = decision.state.facts.created
    if created is None or (previous is not None and previous.facts.created is not None):
        return None
    return created


async def publish_decision(
    previous: OrderState | None,
    decision: Decision,
    source: EventT[bytes],
    input_event_id: str | None,
    outputs: OutputBatches,
    letters: list[DeadLetter],
) -> None:
    """Add what the decision says to ``outputs`` and its refused events to ``letters``.

    The batch submits the outputs, and sends the letters, and awaits them once.
    """
    for change in decision.changes:
        record_status_change(change.status)
        value = await encode_output(ORDER_STATUS, change.to_wire())
        await outputs.add(ORDER_STATUS, change.order_id.encode(), value)
    for alert in decision.alerts:
        wire = alert.to_wire()
        record_alert(wire)
        value = await encode_output(ALERTS, wire)
        await outputs.add(ALERTS, alert.order_id.encode(), value)
    created = newly_created(previous, decision)
    if created is not None and created.customer_id is not None:
        value = encode_json(to_wire(created))
        await outputs.add(CUSTOMER_ORDERS, created.customer_id.encode(), value)
    if created is not None:
        await outputs.add(
            SESSION_PURCHASES, *session_purchase_record(created, source.message.partition)
        )
    letters.extend(
        rejection_letter(source, input_event_id, rejection) for rejection in decision.rejected
    )


async def await_acknowledged(sends: list[Any]) -> None:
    """Wait until the broker acknowledged every send; a refusal raises.

    A refused send is not the record's fault: the exception escapes the agent,
    which stops the worker without committing (``app.kafka.fatal``), so the
    batch is processed again by whoever owns its partitions next.
    """
    for send in sends:  # cheaper than gather: most are answered by the time the first is
        if send.done():
            send.result()  # raises a refusal
        else:
            await send
