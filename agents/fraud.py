"""Fraud velocity: too many orders, or too much money, by one customer in a sliding hour.

Reads the ``customer-orders`` repartition topic (created orders keyed by
``customer_id``), so each customer's recent orders live on one worker in the
``fraud-velocity`` table. The judgement is :func:`domain.fraud.record_order`;
each order it flags gets an alert on ``alerts`` and a ``hold`` command to the
order pipeline (keyed by ``order_id``), which moves the order to ``ON_HOLD``.
Both are acknowledged before the velocity state is stored (see
:mod:`agents.order_outputs` for why), and both are idempotent downstream.
"""

from __future__ import annotations

from typing import Any

from app.kafka.codec import decode_json_object, encode_json
from app.kafka.topic_names import ALERTS
from app.kafka.topics import alerts_topic, customer_orders_topic, order_commands_topic
from app.main import app, settings
from app.monitoring.operations import record_alert
from app.schemas.output import encode_output
from domain.fraud import CustomerVelocity, FraudVerdict, record_order
from domain.order_commands import HoldOrder
from domain.order_events import OrderEvent, order_event_from_wire
from domain.order_outputs import Alert
from tables.fraud import fraud_velocity_table

__all__ = ["fraud_velocity", "judge_created_order"]

FRAUD_ALERT = "fraud_velocity"


def judge_created_order(created: OrderEvent) -> FraudVerdict:
    """Record the order in its customer's window and judge it (pure, plus a table read)."""
    customer_id = created.customer_id or ""
    stored: dict[str, Any] | None = fraud_velocity_table.get(customer_id)
    state = None if stored is None else CustomerVelocity.from_dict(stored)
    return record_order(
        state,
        created,
        max_orders=settings.fraud_max_orders_per_hour,
        max_amount=settings.fraud_max_amount_per_hour,
    )


async def _publish_flags(created: OrderEvent, verdict: FraudVerdict) -> None:
    pending = []
    for flag in verdict.newly_flagged:
        alert = Alert(
            kind=FRAUD_ALERT,
            order_id=flag.order_id,
            customer_id=created.customer_id,
            detail=flag.detail,
            caused_by=flag.hold_id,
            occurred_at=flag.occurred_at,
        )
        hold = HoldOrder(
            order_id=flag.order_id,
            reason=f"fraud velocity: {flag.detail}",
            caused_by=flag.hold_id,
            occurred_at=flag.occurred_at,
        )
        wire = alert.to_wire()
        record_alert(wire)
        value = await encode_output(ALERTS, wire)
        pending.append(await alerts_topic.send(key=flag.order_id, value=value))
        pending.append(
            await order_commands_topic.send(key=flag.order_id, value=encode_json(hold.to_wire()))
        )
    for future in pending:
        await future


@app.agent(customer_orders_topic, name="fraud-velocity")
async def fraud_velocity(stream: Any) -> None:
    """Judge every created order against its customer's sliding hour."""
    async for raw_value in stream:
        created = order_event_from_wire("orders", decode_json_object(raw_value))
        verdict = judge_created_order(created)
        if not verdict.duplicate:
            await _publish_flags(created, verdict)
        # Written for duplicates too: re-asserting heals a changelog record lost in a crash.
        fraud_velocity_table[created.customer_id or ""] = verdict.state.to_dict()
