"""The record the load generator emits, and the DESIGN.md shapes it promises.

Kept apart from the generator and the fault injector so that both (and the
tests) share one definition of "a valid event" without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from app.kafka.topic_names import CLICKSTREAM, ORDERS, PAYMENTS, SHIPMENTS

__all__ = [
    "KINDS",
    "MONEY_FIELDS",
    "REQUIRED_FIELDS",
    "TOPIC_OF_TYPE",
    "EventKind",
    "SimEvent",
]

#: How a record came to be: a fresh valid event, a verbatim re-send of an
#: earlier one, a valid event delivered late, or a poison record.
EventKind = Literal["ok", "duplicate", "out_of_order", "malformed"]
KINDS: Final[tuple[EventKind, ...]] = ("ok", "duplicate", "out_of_order", "malformed")


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One Kafka record to produce.

    ``value`` is the exact bytes to send (orjson-encoded JSON, or deliberately
    broken bytes when ``kind == "malformed"``), so that a recorded run replays
    byte for byte.
    """

    topic: str
    key: str
    value: bytes
    kind: EventKind = "ok"

    @property
    def is_valid(self) -> bool:
        """True for records a correct consumer must apply (duplicates apply as no-ops)."""
        return self.kind != "malformed"


_ORDER: Final = ("event_id", "type", "order_id")
_PAYMENT: Final = (*_ORDER[:2], "payment_id", "order_id", "amount", "currency", "method")
_SHIPMENT: Final = (*_ORDER[:2], "shipment_id", "order_id", "carrier")
_CLICK: Final = ("event_id", "type", "session_id", "customer_id", "sku", "category")

#: Exactly the fields each event type carries (DESIGN.md "Topics"), in wire order.
REQUIRED_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "order_created": (
        *_ORDER,
        "customer_id",
        "session_id",
        "currency",
        "total",
        "items",
        "occurred_at",
    ),
    "order_cancelled": (*_ORDER, "reason", "occurred_at"),
    "payment_authorized": (*_PAYMENT, "occurred_at"),
    "payment_failed": (*_PAYMENT, "occurred_at"),
    "payment_refunded": (*_PAYMENT, "occurred_at"),
    "shipment_dispatched": (*_SHIPMENT, "occurred_at"),
    "shipment_delivered": (*_SHIPMENT, "occurred_at"),
    **{
        click: (*_CLICK, "occurred_at")
        for click in (
            "page_view",
            "search",
            "product_view",
            "add_to_cart",
            "remove_from_cart",
            "checkout_started",
        )
    },
}

#: The topic each event type belongs on.
TOPIC_OF_TYPE: Final[dict[str, str]] = {
    event_type: (
        ORDERS
        if event_type.startswith("order_")
        else PAYMENTS
        if event_type.startswith("payment_")
        else SHIPMENTS
        if event_type.startswith("shipment_")
        else CLICKSTREAM
    )
    for event_type in REQUIRED_FIELDS
}

#: Fields holding money as a decimal string (``items[].unit_price`` aside).
MONEY_FIELDS: Final = frozenset({"total", "amount"})
