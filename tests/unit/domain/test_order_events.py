"""Validation of order, payment and shipment events at the edge, and their wire round trip."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.order_events import (
    EventType,
    InvalidEvent,
    OrderEvent,
    OrderItem,
    UnknownEventType,
    order_event_from_wire,
    to_wire,
)
from tests.unit.domain.factories import wire_created

AUTH: dict[str, Any] = {
    "event_id": "e-3",
    "type": "payment_authorized",
    "payment_id": "p-1",
    "order_id": "o-1",
    "amount": "37.50",
    "currency": "EUR",
    "method": "card",
    "occurred_at": "2026-11-21T10:01:00.000Z",
}

# One valid example per type, in DESIGN.md's shapes.
EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    ("orders", wire_created("e-1")),
    (
        "orders",
        {
            "event_id": "e-2",
            "type": "order_cancelled",
            "order_id": "o-1",
            "reason": "customer_request",
            "occurred_at": "2026-11-21T10:05:00.000Z",
        },
    ),
    ("payments", AUTH),
    ("payments", {**AUTH, "event_id": "e-4", "type": "payment_failed", "reason": "declined"}),
    ("payments", {**AUTH, "event_id": "e-5", "type": "payment_refunded", "reason": "returned"}),
    (
        "shipments",
        {
            "event_id": "e-6",
            "type": "shipment_dispatched",
            "shipment_id": "sh-1",
            "order_id": "o-1",
            "carrier": "dhl",
            "occurred_at": "2026-11-21T10:02:00.000Z",
        },
    ),
    (
        "shipments",
        {
            "event_id": "e-7",
            "type": "shipment_delivered",
            "shipment_id": "sh-1",
            "order_id": "o-1",
            "occurred_at": "2026-11-21T10:03:00.000Z",
        },
    ),
]


def test_order_created_is_read_exactly() -> None:
    event = order_event_from_wire("orders", wire_created("e-1"))
    assert event == OrderEvent(
        event_id="e-1",
        type=EventType.ORDER_CREATED,
        order_id="o-1",
        occurred_at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
        customer_id="c-1",
        session_id="s-1",
        currency="EUR",
        total=Decimal("37.50"),
        items=(OrderItem("sku-1", "books", 3, Decimal("12.50")),),
    )
    assert event.topic == "orders"


@pytest.mark.parametrize(("topic", "value"), EXAMPLES, ids=[v["type"] for _, v in EXAMPLES])
def test_wire_round_trip_is_exact(topic: str, value: dict[str, Any]) -> None:
    event = order_event_from_wire(topic, value)
    assert to_wire(event) == value
    assert order_event_from_wire(event.topic, to_wire(event)) == event


def test_unknown_fields_are_tolerated_and_not_written_back() -> None:
    event = order_event_from_wire("payments", {**AUTH, "risk_score": 0.3, "customer_id": "c-1"})
    assert to_wire(event) == AUTH


def test_times_are_cut_to_wire_milliseconds_in_utc() -> None:
    value = {**AUTH, "occurred_at": "2026-11-21T11:01:00.123456+01:00"}
    event = order_event_from_wire("payments", value)
    assert event.occurred_at == datetime(2026, 11, 21, 10, 1, 0, 123000, tzinfo=UTC)
    assert order_event_from_wire("payments", to_wire(event)) == event


def test_optional_fields_may_be_absent_or_null() -> None:
    refund = {k: v for k, v in AUTH.items() if k not in ("payment_id", "method")}
    event = order_event_from_wire("payments", {**refund, "type": "payment_refunded"})
    assert event.payment_id is None
    failed = {"event_id": "e-9", "type": "payment_failed", "order_id": "o-1", "payment_id": "p-1"}
    event = order_event_from_wire(
        "payments", {**failed, "amount": None, "occurred_at": AUTH["occurred_at"]}
    )
    assert event.amount is None
    assert "amount" not in to_wire(event)


def _without(value: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k != name}


@pytest.mark.parametrize(
    ("topic", "value", "reason"),
    [
        ("payments", _without(AUTH, "amount"), "payments event: amount is missing"),
        ("payments", _without(AUTH, "event_id"), "payments event: event_id is missing"),
        ("payments", {**AUTH, "order_id": None}, "payments event: order_id is missing"),
        ("payments", {**AUTH, "order_id": ""}, "payments event: order_id is empty"),
        ("payments", {**AUTH, "order_id": 7}, "payments event: order_id must be a string, got int"),
        ("payments", {**AUTH, "order_id": "o" * 129}, "order_id is longer than 128 characters"),
        ("payments", {**AUTH, "amount": 37.5}, "amount must be a decimal string, got float"),
        ("payments", {**AUTH, "amount": 37}, "amount must be a decimal string, got int"),
        ("payments", {**AUTH, "amount": "abc"}, "payments event: amount is not a decimal number"),
        ("payments", {**AUTH, "amount": "-1.00"}, "amount must not be negative"),
        ("payments", {**AUTH, "amount": "1.001"}, "amount has more than two decimals"),
        ("payments", {**AUTH, "amount": "NaN"}, "amount must be finite"),
        ("payments", {**AUTH, "currency": "eur"}, "currency must be 3 upper-case letters"),
        ("payments", {**AUTH, "currency": "EURO"}, "currency must be 3 upper-case letters"),
        ("payments", {**AUTH, "occurred_at": "yesterday"}, "occurred_at is not ISO-8601"),
        ("payments", {**AUTH, "occurred_at": "2026-11-21T10:00:00"}, "occurred_at has no timezone"),
        ("payments", {**AUTH, "occurred_at": 1763719200}, "occurred_at must be an ISO-8601"),
        ("payments", {**AUTH, "type": None}, "payments event: type is missing"),
        ("payments", {**AUTH, "type": 3}, "type must be a string"),
        ("payments", {**AUTH, "method": ["card"]}, "method must be a string, got list"),
        ("orders", {**wire_created(), "total": "40.00"}, "total 40.00 does not match the items"),
        ("orders", {**wire_created(), "items": []}, "items must be a non-empty list"),
        ("orders", {**wire_created(), "items": "sku-1"}, "items must be a non-empty list"),
        ("orders", _without(wire_created(), "customer_id"), "customer_id is missing"),
        (
            "orders",
            {**wire_created(), "items": [{"sku": "s", "category": "c", "quantity": 0}]},
            "items[0].quantity must be a positive integer",
        ),
        (
            "orders",
            {**wire_created(), "items": [{"sku": "s", "category": "c", "quantity": True}]},
            "items[0].quantity must be a positive integer",
        ),
        (
            "orders",
            {
                **wire_created(),
                "items": [{"sku": "", "category": "c", "quantity": 1, "unit_price": "1.00"}],
            },
            "orders event: items[0].sku is empty",
        ),
        (
            "orders",
            {**wire_created(), "items": [{"sku": "s", "quantity": 3, "unit_price": "12.50"}]},
            "items[0].category is missing",
        ),
        (
            "orders",
            {
                **wire_created(),
                "items": [{"sku": "s", "category": "c", "quantity": 3, "unit_price": 12.5}],
            },
            "items[0].unit_price must be a decimal string, got float",
        ),
        ("payments", wire_created(), "type 'order_created' does not belong on topic payments"),
        ("orders", AUTH, "type 'payment_authorized' does not belong on topic orders"),
        ("clickstream", AUTH, "clickstream event: not an order-pipeline topic"),
    ],
)
def test_invalid_events_are_refused_with_a_reason(
    topic: str, value: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidEvent) as raised:
        order_event_from_wire(topic, value)
    assert reason in raised.value.reason
    assert raised.value.reason.startswith(f"{topic} event: ")
    assert not isinstance(raised.value, UnknownEventType)


def test_reason_example_from_the_brief() -> None:
    with pytest.raises(InvalidEvent) as raised:
        order_event_from_wire("payments", {**AUTH, "amount": "abc"})
    assert raised.value.reason == "payments event: amount is not a decimal number: 'abc'"


def test_unknown_type_has_its_own_exception() -> None:
    with pytest.raises(UnknownEventType, match="unknown type 'order_teleported'"):
        order_event_from_wire("orders", {**wire_created(), "type": "order_teleported"})


def test_invalid_event_is_a_value_error_and_keeps_reasons_short() -> None:
    with pytest.raises(ValueError) as raised:
        order_event_from_wire("payments", {**AUTH, "amount": "x" * 10_000})
    assert isinstance(raised.value, InvalidEvent)
    assert len(raised.value.reason) <= 300


def test_value_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="not an object"):
        order_event_from_wire("orders", ["order_created"])  # type: ignore[arg-type]


def test_events_built_in_code_get_the_same_guarantees() -> None:
    with pytest.raises(InvalidEvent, match="currency is missing"):
        OrderEvent("e-1", EventType.PAYMENT_AUTHORIZED, "o-1", datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidEvent, match="no timezone"):
        OrderEvent("e-1", EventType.ORDER_CANCELLED, "o-1", datetime(2026, 1, 1))
    loose_type: Any = "order_lost"  # a plain string, as a careless caller would pass
    with pytest.raises(UnknownEventType):
        OrderEvent("e-1", loose_type, "o-1", datetime(2026, 1, 1, tzinfo=UTC))
    loose_type = "order_cancelled"
    event = OrderEvent("e-1", loose_type, "o-1", datetime(2026, 1, 1, 0, 0, 0, 999999, tzinfo=UTC))
    assert event.type is EventType.ORDER_CANCELLED
    assert event.occurred_at.microsecond == 999000
