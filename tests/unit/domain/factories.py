"""Builders of order-pipeline events and a fold over the lifecycle, for the domain tests.

Every builder goes through the wire (``order_event_from_wire``) so that the
tests exercise the same validation the agents rely on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.order_events import OrderEvent, order_event_from_wire
from domain.order_lifecycle import (
    Alert,
    Decision,
    OrderState,
    Rejection,
    StatusChange,
    apply_event,
)
from domain.timefmt import format_time

__all__ = [
    "T0",
    "Fold",
    "at",
    "authorized",
    "cancelled",
    "created",
    "delivered",
    "dispatched",
    "failed",
    "fold",
    "refunded",
    "wire_created",
]

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def wire_created(
    event_id: str = "e-created",
    *,
    order_id: str = "o-1",
    customer_id: str = "c-1",
    currency: str = "EUR",
    minute: float = 0,
) -> dict[str, Any]:
    """The DESIGN.md example ``order_created`` (3 x 12.50 = 37.50)."""
    return {
        "event_id": event_id,
        "type": "order_created",
        "order_id": order_id,
        "customer_id": customer_id,
        "session_id": "s-1",
        "currency": currency,
        "total": "37.50",
        "items": [{"sku": "sku-1", "category": "books", "quantity": 3, "unit_price": "12.50"}],
        "occurred_at": format_time(at(minute)),
    }


def created(event_id: str = "e-created", **overrides: Any) -> OrderEvent:
    return order_event_from_wire("orders", wire_created(event_id, **overrides))


def _event(topic: str, event_type: str, event_id: str, minute: float, **fields: Any) -> OrderEvent:
    value = {"event_id": event_id, "type": event_type, "order_id": fields.pop("order_id", "o-1")}
    value.update({k: v for k, v in fields.items() if v is not None})
    value["occurred_at"] = format_time(at(minute))
    return order_event_from_wire(topic, value)


def authorized(
    event_id: str = "e-auth",
    *,
    minute: float = 1,
    amount: str = "37.50",
    currency: str = "EUR",
    payment_id: str = "p-1",
    order_id: str = "o-1",
) -> OrderEvent:
    return _event(
        "payments",
        "payment_authorized",
        event_id,
        minute,
        payment_id=payment_id,
        amount=amount,
        currency=currency,
        method="card",
        order_id=order_id,
    )


def failed(event_id: str = "e-fail", *, minute: float = 1, payment_id: str = "p-0") -> OrderEvent:
    return _event(
        "payments",
        "payment_failed",
        event_id,
        minute,
        payment_id=payment_id,
        amount="37.50",
        currency="EUR",
        reason="card_declined",
    )


def refunded(
    event_id: str = "e-refund",
    *,
    minute: float = 5,
    amount: str = "37.50",
    payment_id: str | None = "p-1",
) -> OrderEvent:
    return _event(
        "payments",
        "payment_refunded",
        event_id,
        minute,
        payment_id=payment_id,
        amount=amount,
        currency="EUR",
        reason="returned",
    )


def dispatched(
    event_id: str = "e-dispatch", *, minute: float = 2, shipment_id: str = "sh-1"
) -> OrderEvent:
    return _event(
        "shipments", "shipment_dispatched", event_id, minute, shipment_id=shipment_id, carrier="dhl"
    )


def delivered(
    event_id: str = "e-deliver", *, minute: float = 3, shipment_id: str = "sh-1"
) -> OrderEvent:
    return _event("shipments", "shipment_delivered", event_id, minute, shipment_id=shipment_id)


def cancelled(event_id: str = "e-cancel", *, minute: float = 4) -> OrderEvent:
    return _event("orders", "order_cancelled", event_id, minute, reason="customer_request")


@dataclass
class Fold:
    """Everything a run of ``apply_event`` produced, as the agent would see it."""

    state: OrderState | None = None
    decisions: list[Decision] = field(default_factory=list)

    @property
    def changes(self) -> list[StatusChange]:
        return [change for d in self.decisions for change in d.changes]

    @property
    def alerts(self) -> list[Alert]:
        return [alert for d in self.decisions for alert in d.alerts]

    @property
    def rejected(self) -> list[Rejection]:
        return [rejection for d in self.decisions for rejection in d.rejected]

    @property
    def final(self) -> OrderState:
        if self.state is None:
            raise LookupError("no event was applied")
        return self.state


def fold(events: Iterable[OrderEvent], state: OrderState | None = None) -> Fold:
    """Apply ``events`` one by one, keeping every decision."""
    result = Fold(state=state)
    for event in events:
        decision = apply_event(result.state, event)
        result.decisions.append(decision)
        result.state = decision.state
    return result
