"""The oracle's reading of the wire: recorded records in, typed facts or "malformed" out.

Written from DESIGN.md ("Topics") alone, with the standard library, so that a
mistake in the worker's validation cannot hide behind the same mistake here.
Where DESIGN.md leaves a field's presence open, the reading is the
implementation's documented one (a failed payment may lack an amount, a
refund may lack its payment id, ``session_id`` of an order may be absent);
nothing beyond that is copied.

Times become integer milliseconds since the epoch (the wire's precision), and
money stays :class:`~decimal.Decimal`, so every later sum is exact.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

__all__ = [
    "CLICK_TYPES",
    "TOPIC_OF_ORDER_TYPE",
    "Click",
    "Item",
    "LogRecord",
    "Malformed",
    "OrderFact",
    "format_ms",
    "judge",
    "judged",
    "parse_ms",
    "read_log",
]

TOPIC_OF_ORDER_TYPE: Final[Mapping[str, str]] = {
    "order_created": "orders",
    "order_cancelled": "orders",
    "payment_authorized": "payments",
    "payment_failed": "payments",
    "payment_refunded": "payments",
    "shipment_dispatched": "shipments",
    "shipment_delivered": "shipments",
}
CLICK_TYPES: Final = frozenset(
    {"page_view", "search", "product_view", "add_to_cart", "remove_from_cart", "checkout_started"}
)

_MONEY = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

#: Fields each order-pipeline type must carry, beyond event_id, type, order_id, occurred_at.
_REQUIRED: Final[Mapping[str, tuple[str, ...]]] = {
    "order_created": ("customer_id", "currency", "total", "items"),
    "order_cancelled": (),
    "payment_authorized": ("payment_id", "amount", "currency"),
    "payment_failed": ("payment_id",),
    "payment_refunded": ("amount", "currency"),
    "shipment_dispatched": ("shipment_id",),
    "shipment_delivered": ("shipment_id",),
}


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One recorded Kafka record: what was produced, byte for byte, and its log line."""

    topic: str
    key: str | None
    value: bytes
    kind: str = "ok"
    line: int = 0


class Malformed(ValueError):
    """A record that no reading of DESIGN.md can apply: it belongs on ``dead-letters``.

    ``stage`` is ``decode`` when the bytes are not a UTF-8 JSON object at all,
    ``validate`` when the object is not a valid event.
    """

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(reason)
        self.stage = stage
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Item:
    """One order line: what ``top-products`` counts as units purchased."""

    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class OrderFact:
    """A valid event of ``orders``, ``payments`` or ``shipments``; absent fields are None."""

    event_id: str
    type: str
    order_id: str
    at: int
    customer_id: str | None = None
    session_id: str | None = None
    currency: str | None = None
    total: Decimal | None = None
    items: tuple[Item, ...] = ()
    payment_id: str | None = None
    amount: Decimal | None = None
    shipment_id: str | None = None


@dataclass(frozen=True, slots=True)
class Click:
    """A valid ``clickstream`` event."""

    event_id: str
    type: str
    session_id: str
    at: int
    sku: str | None = None


def read_log(path: str | Path) -> list[LogRecord]:
    """A recorded JSONL log (``write_jsonl``'s format, optionally gzipped), in file order.

    The produced bytes are ``value_b64``; the readable ``value`` beside them
    is ignored, as it is null for bytes that are not JSON.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    records = []
    with opener(path, "rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            try:
                value = base64.b64decode(row["value_b64"], validate=True)
            except (KeyError, binascii.Error) as exc:
                raise ValueError(f"{path}:{number}: no usable value_b64: {exc}") from None
            records.append(LogRecord(row["topic"], row["key"], value, row.get("kind", ""), number))
    return records


def parse_ms(text: object) -> int:
    """ISO-8601 with an explicit offset -> epoch milliseconds (sub-milliseconds dropped)."""
    if not isinstance(text, str):
        raise ValueError(f"not a time string: {text!r:.40}")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time without offset: {text!r:.40}")
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def format_ms(ms: int) -> str:
    """Epoch milliseconds -> DESIGN.md's ``2026-11-21T10:00:00.000Z``."""
    moment = _EPOCH + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _decode(value: bytes) -> dict[str, Any]:
    try:
        decoded = json.loads(value.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Malformed("decode", f"not UTF-8 JSON: {exc}") from None
    if not isinstance(decoded, dict):
        raise Malformed("decode", f"a JSON {type(decoded).__name__}, not an object")
    return decoded


class _Fields:
    """Typed access to one decoded object; every failure is a :class:`Malformed`."""

    def __init__(self, obj: Mapping[str, Any]) -> None:
        self.obj = obj

    def ident(self, name: str, *, required: bool) -> str | None:
        raw = self.obj.get(name)
        if raw is None:
            if required:
                raise Malformed("validate", f"{name} is missing")
            return None
        if not isinstance(raw, str) or not raw.strip():
            raise Malformed("validate", f"{name} must be a non-empty string: {raw!r:.40}")
        return raw

    def money(self, name: str) -> Decimal | None:
        raw = self.obj.get(name)
        if raw is None:
            return None
        if not isinstance(raw, str) or not _MONEY.fullmatch(raw):
            raise Malformed("validate", f"{name} must be a decimal string: {raw!r:.40}")
        return Decimal(raw)

    def currency(self) -> str | None:
        raw = self.obj.get("currency")
        if raw is not None and (not isinstance(raw, str) or not _CURRENCY.fullmatch(raw)):
            raise Malformed("validate", f"currency must be 3 capitals: {raw!r:.40}")
        return raw

    def at(self) -> int:
        try:
            return parse_ms(self.obj.get("occurred_at"))
        except ValueError as exc:
            raise Malformed("validate", f"occurred_at: {exc}") from None

    def items(self) -> tuple[Item, ...]:
        raw = self.obj.get("items")
        if raw is None:
            return ()
        if not isinstance(raw, list) or not raw:
            raise Malformed("validate", "items must be a non-empty list")
        lines = []
        for line in raw:
            if not isinstance(line, dict):
                raise Malformed("validate", "an item is not an object")
            fields = _Fields(line)
            sku = fields.ident("sku", required=True)
            fields.ident("category", required=True)
            quantity = line.get("quantity")
            if type(quantity) is not int or quantity <= 0:
                raise Malformed("validate", f"quantity must be a positive integer: {quantity!r}")
            price = fields.money("unit_price")
            if sku is None or price is None:
                raise Malformed("validate", "an item lacks sku or unit_price")
            lines.append(Item(sku, quantity, price))
        return tuple(lines)


def _order_fact(topic: str, key: str | None, fields: _Fields) -> OrderFact:
    event_type = fields.obj.get("type")
    if not isinstance(event_type, str) or TOPIC_OF_ORDER_TYPE.get(event_type) != topic:
        raise Malformed("validate", f"type {event_type!r:.40} is not a {topic} event")
    for name in _REQUIRED[event_type]:
        if fields.obj.get(name) is None:
            raise Malformed("validate", f"{event_type}: {name} is missing")
    order_id = fields.ident("order_id", required=True)
    fact = OrderFact(
        event_id=fields.ident("event_id", required=True) or "",
        type=event_type,
        order_id=order_id or "",
        at=fields.at(),
        customer_id=fields.ident("customer_id", required=False),
        session_id=fields.ident("session_id", required=False),
        currency=fields.currency(),
        total=fields.money("total"),
        items=fields.items(),
        payment_id=fields.ident("payment_id", required=False),
        amount=fields.money("amount"),
        shipment_id=fields.ident("shipment_id", required=False),
    )
    if key != order_id:
        raise Malformed("validate", f"key {key!r:.40} is not the order_id {order_id!r:.40}")
    if event_type == "order_created":
        lines = sum((item.quantity * item.unit_price for item in fact.items), Decimal(0))
        if lines != fact.total:
            raise Malformed("validate", f"total {fact.total} is not the sum of the items {lines}")
    return fact


def _click(key: str | None, fields: _Fields) -> Click:
    event_type = fields.obj.get("type")
    if event_type not in CLICK_TYPES:
        raise Malformed("validate", f"type {event_type!r:.40} is not a clickstream event")
    session_id = fields.ident("session_id", required=True) or ""
    click = Click(
        event_id=fields.ident("event_id", required=True) or "",
        type=str(event_type),
        session_id=session_id,
        at=fields.at(),
        sku=fields.ident("sku", required=False),
    )
    fields.ident("customer_id", required=False)
    fields.ident("category", required=False)
    if key != session_id:
        raise Malformed("validate", f"key {key!r:.40} is not the session_id {session_id!r:.40}")
    return click


def judge(record: LogRecord) -> OrderFact | Click:
    """The fact a record carries, or :class:`Malformed` when it must be dead-lettered."""
    fields = _Fields(_decode(record.value))
    if record.topic == "clickstream":
        return _click(record.key, fields)
    if record.topic in ("orders", "payments", "shipments"):
        return _order_fact(record.topic, record.key, fields)
    raise ValueError(f"record of line {record.line} is on {record.topic!r}, not an input topic")


def judged(
    records: Iterable[LogRecord],
) -> Iterator[tuple[LogRecord, OrderFact | Click | Malformed]]:
    """Each record with its verdict, in log order."""
    for record in records:
        try:
            yield record, judge(record)
        except Malformed as bad:
            yield record, bad
