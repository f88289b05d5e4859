"""The events of the ``orders``, ``payments`` and ``shipments`` topics, validated.

DESIGN.md fixes their JSON shapes. Everything the order lifecycle decides
rests on these values, so they are checked once, at the edge, and turned into
one immutable :class:`OrderEvent`: ids are bounded strings, money is exact
(:func:`domain.money.parse_money`), times are UTC (:func:`domain.timefmt.parse_time`)
cut to the milliseconds the wire keeps, so that :func:`to_wire` and
:func:`order_event_from_wire` round-trip exactly (pending events are stored
in state as wire dicts and read back after a restart).

A value that cannot be an event raises :class:`InvalidEvent` with a short
reason for the dead-letter record; nothing is guessed or repaired.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from domain.errors import InvalidInput
from domain.money import InvalidMoney, format_money, parse_money
from domain.timefmt import InvalidTimestamp, format_time, parse_event_time, truncate_to_millis

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_ITEMS",
    "MAX_QUANTITY",
    "MAX_TEXT_LENGTH",
    "TOPIC_OF_TYPE",
    "EventType",
    "InvalidEvent",
    "OrderEvent",
    "OrderItem",
    "UnknownEventType",
    "order_event_from_wire",
    "to_wire",
]

#: Ids longer than this are poison, not keys (they would bloat every table row).
MAX_ID_LENGTH: Final = 128
#: Free text (reasons, methods, carriers) is informative only; keep it short.
MAX_TEXT_LENGTH: Final = 256
#: An order has at most this many lines; the order state stores them all.
MAX_ITEMS: Final = 1000
#: More units than this on one line is not a shop order.
MAX_QUANTITY: Final = 1_000_000
#: Dead-letter reasons stay readable even when the bad value is huge.

_CURRENCY = re.compile(r"[A-Z]{3}")


class InvalidEvent(InvalidInput):
    """A decoded value that is not a valid order, payment or shipment event.

    ``reason`` is short and human ("payments event: amount is not a decimal
    number: 'abc'"); the agent puts it in the dead-letter record.
    """


class UnknownEventType(InvalidEvent):
    """An event whose ``type`` is none of DESIGN.md's order-pipeline types."""


class EventType(StrEnum):
    """The event types of the order pipeline (values are the wire strings)."""

    ORDER_CREATED = "order_created"
    ORDER_CANCELLED = "order_cancelled"
    PAYMENT_AUTHORIZED = "payment_authorized"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_REFUNDED = "payment_refunded"
    SHIPMENT_DISPATCHED = "shipment_dispatched"
    SHIPMENT_DELIVERED = "shipment_delivered"


#: The topic each type belongs on (DESIGN.md "Topics"); kept here rather than
#: imported from ``app`` because dependencies point inward.
TOPIC_OF_TYPE: Final[Mapping[EventType, str]] = {
    EventType.ORDER_CREATED: "orders",
    EventType.ORDER_CANCELLED: "orders",
    EventType.PAYMENT_AUTHORIZED: "payments",
    EventType.PAYMENT_FAILED: "payments",
    EventType.PAYMENT_REFUNDED: "payments",
    EventType.SHIPMENT_DISPATCHED: "shipments",
    EventType.SHIPMENT_DELIVERED: "shipments",
}


@dataclass(frozen=True, slots=True)
class _FieldSpec:
    """Which optional attributes of :class:`OrderEvent` a type carries."""

    required: frozenset[str]
    optional: frozenset[str]
    #: required | optional, computed once: every field read of every event asks.
    fields: frozenset[str]


def _spec(required: str, optional: str = "") -> _FieldSpec:
    needed, allowed = frozenset(required.split()), frozenset(optional.split())
    return _FieldSpec(needed, allowed, needed | allowed)


# One table drives both parsing and writing, so the two cannot disagree.
# A failed payment may not know an amount, and a refund may not name the
# payment it reverses; everything else DESIGN.md shows is required.
_SPECS: Final[Mapping[EventType, _FieldSpec]] = {
    EventType.ORDER_CREATED: _spec("customer_id currency total items", "session_id"),
    EventType.ORDER_CANCELLED: _spec("", "reason"),
    EventType.PAYMENT_AUTHORIZED: _spec("payment_id amount currency", "method"),
    EventType.PAYMENT_FAILED: _spec("payment_id", "amount currency method reason"),
    EventType.PAYMENT_REFUNDED: _spec("amount currency", "payment_id method reason"),
    EventType.SHIPMENT_DISPATCHED: _spec("shipment_id", "carrier"),
    EventType.SHIPMENT_DELIVERED: _spec("shipment_id", "carrier"),
}


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One line of an order; ``unit_price`` is exact money."""

    sku: str
    category: str
    quantity: int
    unit_price: Decimal

    @property
    def line_total(self) -> Decimal:
        return self.quantity * self.unit_price


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One event of the order pipeline, whatever its topic.

    A single type (rather than one class per event) keeps the lifecycle's
    pattern matching flat and lets pending events of any kind sit in one list.
    Attributes a type does not carry are ``None`` (``items`` is empty).
    """

    event_id: str
    type: EventType
    order_id: str
    occurred_at: datetime
    customer_id: str | None = None
    session_id: str | None = None
    currency: str | None = None
    total: Decimal | None = None
    items: tuple[OrderItem, ...] = ()
    reason: str | None = None
    payment_id: str | None = None
    amount: Decimal | None = None
    method: str | None = None
    shipment_id: str | None = None
    carrier: str | None = None
    #: The wire form, once :func:`to_wire` built it (not a part of the event's value).
    _wire: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Events built in code (tests, tools) get the same guarantees as parsed
        # ones, so the lifecycle can rely on required attributes being there and
        # on the wire round trip being exact (hence the UTC milliseconds).
        try:
            object.__setattr__(self, "type", EventType(self.type))
        except ValueError:
            raise UnknownEventType(f"event {self.event_id}: unknown type {self.type!r}") from None
        if self.occurred_at.tzinfo is None:
            raise InvalidEvent(f"{self.type} event {self.event_id}: occurred_at has no timezone")
        object.__setattr__(self, "occurred_at", truncate_to_millis(self.occurred_at))
        for name in _REQUIRED[self.type]:
            if name == "items":
                if not self.items:
                    raise InvalidEvent(f"{self.type} event {self.event_id}: items is empty")
            elif getattr(self, name) is None:
                raise InvalidEvent(f"{self.type} event {self.event_id}: {name} is missing")

    @property
    def topic(self) -> str:
        """The input topic this event belongs on."""
        return TOPIC_OF_TYPE[self.type]


#: The attributes a type may or may not carry, in the order ``to_wire`` writes them.
_OPTIONAL: Final = tuple(f.name for f in fields(OrderEvent) if f.init)[4:]
#: Per type, the attributes of :data:`_OPTIONAL` it carries (the others are neither read
#: nor written: they keep their defaults), and those it must carry.
_CARRIED: Final[Mapping[EventType, tuple[str, ...]]] = {
    event_type: tuple(name for name in _OPTIONAL if name in spec.fields)
    for event_type, spec in _SPECS.items()
}
_REQUIRED: Final[Mapping[EventType, tuple[str, ...]]] = {
    event_type: tuple(name for name in _OPTIONAL if name in spec.required)
    for event_type, spec in _SPECS.items()
}
#: The :class:`_Reader` method that reads each attribute of :data:`_OPTIONAL`.
_READ_AS: Final[Mapping[str, str]] = {
    "customer_id": "ident",
    "session_id": "ident",
    "currency": "currency",
    "total": "money",
    "items": "items",
    "reason": "text",
    "payment_id": "ident",
    "amount": "money",
    "method": "text",
    "shipment_id": "ident",
    "carrier": "text",
}


class _Reader:
    """Reads the attributes of one decoded value; every failure names the field."""

    def __init__(self, topic: str, value: Mapping[str, Any], spec: _FieldSpec | None) -> None:
        self.topic = topic
        self.value = value
        self.spec = spec

    def fail(self, message: str) -> InvalidEvent:
        return InvalidEvent(f"{self.topic} event: {message}")

    def _raw(self, name: str) -> object | None:
        """The raw value, or None when the type does not carry the field or it is null."""
        if self.spec is not None and name not in self.spec.fields:
            return None
        raw = self.value.get(name)
        if raw is None and (self.spec is None or name in self.spec.required):
            raise self.fail(f"{name} is missing")
        return raw

    def ident(self, name: str) -> str | None:
        return self._string(name, MAX_ID_LENGTH, blank_ok=False)

    def required_ident(self, name: str) -> str:
        ident = self.ident(name)
        if ident is None:  # only when the spec does not list it: a bug in _SPECS
            raise self.fail(f"{name} is missing")
        return ident

    def text(self, name: str) -> str | None:
        return self._string(name, MAX_TEXT_LENGTH, blank_ok=True)

    def _string(self, name: str, limit: int, *, blank_ok: bool) -> str | None:
        raw = self._raw(name)
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise self.fail(f"{name} must be a string, got {type(raw).__name__}")
        if not blank_ok and not raw.strip():
            raise self.fail(f"{name} is empty")
        if len(raw) > limit:
            raise self.fail(f"{name} is longer than {limit} characters")
        return raw

    def money(self, name: str) -> Decimal | None:
        raw = self._raw(name)
        if raw is None:
            return None
        return self.parse_money(raw, name)

    def parse_money(self, raw: object, name: str) -> Decimal:
        # DESIGN.md: money is a decimal string on the wire; JSON numbers are refused
        # (floats are inexact, and accepting ints would make the contract ambiguous).
        if not isinstance(raw, str):
            raise self.fail(f"{name} must be a decimal string, got {type(raw).__name__}")
        try:
            return parse_money(raw, field=name)
        except InvalidMoney as exc:
            raise self.fail(str(exc)) from None

    def currency(self, name: str) -> str | None:
        raw = self._raw(name)
        if raw is None:
            return None
        if not isinstance(raw, str) or not _CURRENCY.fullmatch(raw):
            raise self.fail(f"{name} must be 3 upper-case letters: {raw!r:.40}")
        return raw

    def time(self, name: str) -> datetime:
        try:
            return truncate_to_millis(parse_event_time(self._raw(name), field=name))
        except InvalidTimestamp as exc:
            raise self.fail(str(exc)) from None

    def items(self, name: str = "items") -> tuple[OrderItem, ...]:
        raw = self._raw(name)
        if raw is None:
            return ()
        if not isinstance(raw, list) or not raw:
            raise self.fail("items must be a non-empty list")
        if len(raw) > MAX_ITEMS:
            raise self.fail(f"items has more than {MAX_ITEMS} lines")
        return tuple(self._item(index, line) for index, line in enumerate(raw))

    def _item(self, index: int, line: object) -> OrderItem:
        where = f"items[{index}]"
        if not isinstance(line, Mapping):
            raise self.fail(f"{where} must be an object")
        line_reader = _Reader(self.topic, line, None)
        try:
            sku = line_reader.required_ident("sku")
            category = line_reader.required_ident("category")
        except InvalidEvent as exc:
            inner = exc.reason.removeprefix(f"{self.topic} event: ")
            raise self.fail(f"{where}.{inner}") from None
        quantity = line.get("quantity")
        if isinstance(quantity, float) and quantity.is_integer():
            quantity = int(quantity)  # JSON (and JSON Schema) make no difference between 3 and 3.0
        if (
            isinstance(quantity, bool)
            or not isinstance(quantity, int)
            or not 0 < quantity <= MAX_QUANTITY
        ):
            raise self.fail(f"{where}.quantity must be a positive integer: {quantity!r:.40}")
        unit_price = self.parse_money(line.get("unit_price"), f"{where}.unit_price")
        return OrderItem(sku=sku, category=category, quantity=quantity, unit_price=unit_price)


def _event_type(topic: str, value: Mapping[str, Any]) -> EventType:
    raw = value.get("type")
    if raw is None:
        raise InvalidEvent(f"{topic} event: type is missing")
    if not isinstance(raw, str):
        raise InvalidEvent(f"{topic} event: type must be a string, got {type(raw).__name__}")
    try:
        event_type = EventType(raw)
    except ValueError:
        raise UnknownEventType(f"{topic} event: unknown type {raw!r:.60}") from None
    if TOPIC_OF_TYPE[event_type] != topic:
        raise InvalidEvent(f"{topic} event: type {raw!r} does not belong on topic {topic}")
    return event_type


def order_event_from_wire(topic: str, value: Mapping[str, Any]) -> OrderEvent:
    """Validate one decoded JSON object of ``topic`` and build its :class:`OrderEvent`.

    Unknown extra fields are tolerated (producers may add some); missing or
    ill-typed required ones raise :class:`InvalidEvent`, an unknown ``type``
    raises :class:`UnknownEventType`.
    """
    if topic not in TOPIC_OF_TYPE.values():
        raise InvalidEvent(f"{topic} event: not an order-pipeline topic")
    if not isinstance(value, Mapping):
        raise InvalidEvent(f"{topic} event: value is a {type(value).__name__}, not an object")
    event_type = _event_type(topic, value)
    base = _Reader(topic, value, None)
    event_id = base.required_ident("event_id")
    order_id = base.required_ident("order_id")
    occurred_at = base.time("occurred_at")
    reader = _Reader(topic, value, _SPECS[event_type])
    carried = {name: getattr(reader, _READ_AS[name])(name) for name in _CARRIED[event_type]}
    event = OrderEvent(
        event_id=event_id, type=event_type, order_id=order_id, occurred_at=occurred_at, **carried
    )
    if event_type is EventType.ORDER_CREATED:
        items_total = sum((item.line_total for item in event.items), Decimal(0))
        if event.total != items_total:
            raise reader.fail(
                f"total {event.total} does not match the items ({format_money(items_total)})"
            )
    return event


def _item_to_wire(item: OrderItem) -> dict[str, Any]:
    return {
        "sku": item.sku,
        "category": item.category,
        "quantity": item.quantity,
        "unit_price": format_money(item.unit_price),
    }


def to_wire(event: OrderEvent) -> dict[str, Any]:
    """The DESIGN.md JSON object of ``event`` (money as strings, time as ``format_time``).

    ``order_event_from_wire(event.topic, to_wire(event)) == event`` for every
    parsed event; absent optional fields are left out rather than written as null.
    Built once per event (an order's events are written with its state at
    every change, a created one also to ``customer-orders``): the dict is
    shared, so callers encode it and never change it.
    """
    cached = event._wire
    if cached is not None:
        return cached
    wire: dict[str, Any] = {
        "event_id": event.event_id,
        "type": str(event.type),
        "order_id": event.order_id,
    }
    for name in _CARRIED[event.type]:
        attribute = getattr(event, name)
        if name == "items":
            wire["items"] = [_item_to_wire(item) for item in event.items]
        elif isinstance(attribute, Decimal):
            wire[name] = format_money(attribute)
        elif attribute is not None:
            wire[name] = attribute
    wire["occurred_at"] = format_time(event.occurred_at)
    object.__setattr__(event, "_wire", wire)
    return wire
