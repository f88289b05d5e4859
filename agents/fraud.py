"""Fraud velocity: too many orders, or too much money, by one customer in a sliding hour.

Called by :mod:`agents.customer_orders` (the one agent reading the
``customer-orders`` repartition topic: created orders keyed by
``customer_id``, so each customer's recent orders live on one worker in the
``fraud-velocity`` table). The judgement is :func:`domain.fraud.record_order`;
each order it flags gets an alert on ``alerts`` and a ``hold`` command to the
order pipeline (keyed by ``order_id``), which moves the order to ``ON_HOLD``.

Outputs before state, once per batch: a :class:`VelocityBatch` collects a
batch's alerts and holds (whole record batches, :func:`app.kafka.topics.output_batches`)
and holds the new windows in memory; :meth:`VelocityBatch.finish` hands the
outputs over and waits once for the broker's
acknowledgement of all of them and only then puts the windows into
:data:`tables.fraud.fraud_cache`, which writes each once, at the next commit.
A window must not sit in the cache earlier: a commit (the timer's) may run
while the batch waits, and the commit cache writes every row it holds. So a
window recording a flag reaches the changelog only after the flag's alert and
hold were acknowledged; after a crash the order is judged again and, not yet
recorded, flagged again with the same ids (both are idempotent downstream).
"""

from __future__ import annotations

from faust.types import EventT

from agents.order_outputs import await_acknowledged
from app.faust_patches.record_batches import OutputBatches
from app.kafka.codec import encode_json
from app.kafka.topic_names import ALERTS
from app.kafka.topics import ORDER_COMMANDS, output_batches
from app.main import settings
from app.monitoring.operations import record_alert
from app.schemas.output import encode_output
from domain.fraud import CustomerVelocity, FraudVerdict, record_order
from domain.order_commands import HoldOrder
from domain.order_events import OrderEvent
from domain.order_outputs import Alert
from tables.fraud import fraud_cache

__all__ = ["FRAUD_ALERT", "VelocityBatch"]

FRAUD_ALERT = "fraud_velocity"


class VelocityBatch:
    """The fraud side of one batch: flags collected as judged, windows held until acknowledged."""

    def __init__(self) -> None:
        self.outputs = output_batches()
        #: customer_id -> (its last record in the batch, its newest window)
        self.held: dict[str, tuple[EventT[bytes], CustomerVelocity]] = {}

    def _window(self, event: EventT[bytes], customer_id: str) -> CustomerVelocity | None:
        held = self.held.get(customer_id)
        if held is not None:
            return held[1]
        stored: CustomerVelocity | None = fraud_cache.rows(event).get(customer_id)
        return stored

    async def judge(self, event: EventT[bytes], created: OrderEvent) -> FraudVerdict:
        """Record the order in its customer's window, add its flags to the outputs, hold the window.

        Raises :class:`domain.fraud.InvalidFraudInput` (the order) and
        :class:`domain.fraud.CorruptVelocity` (the stored window); nothing is
        sent or held then.
        """
        customer_id = created.customer_id or ""
        verdict = record_order(
            self._window(event, customer_id),
            created,
            max_orders=settings.fraud_max_orders_per_hour,
            max_amount=settings.fraud_max_amount_per_hour,
        )
        if verdict.newly_flagged:
            await _add_flags(created, verdict, self.outputs)
        # Held for duplicates too: re-asserting heals a changelog record lost in a crash.
        self.held[customer_id] = (event, verdict.state)
        return verdict

    async def finish(self) -> None:
        """Wait for every flag's acknowledgement (a refusal raises), then cache the windows."""
        await await_acknowledged(self.outputs.submit())
        for customer_id, (event, window) in self.held.items():
            fraud_cache.rows(event).put(customer_id, window)


async def _add_flags(created: OrderEvent, verdict: FraudVerdict, outputs: OutputBatches) -> None:
    """Add an alert and a hold per flagged order to the batch's outputs."""
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
        await outputs.add(ALERTS, flag.order_id.encode(), value)
        await outputs.add(ORDER_COMMANDS, flag.order_id.encode(), encode_json(hold.to_wire()))
