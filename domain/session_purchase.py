"""A created order as analytics needs it, re-keyed by the session that placed it.

The order pipeline de-duplicates ``order_created`` per order and, the first
time an order is created, publishes one :class:`SessionPurchase` on an
internal topic keyed by ``session_id``, the key of ``clickstream``: a
session's clicks and purchases then meet on one partition. An order that
names no session is keyed by its ``order_id``; its revenue still counts, it
just reaches no session.

Wire form: ``{"order_id", "session_id", "customer_id", "currency", "total",
"items": [{"sku", "quantity"}], "occurred_at", "source_partition"}``, money as
a decimal string; ``source_partition`` is the ``orders`` partition the order
was read from (see :class:`domain.analytics_windows.Watermark` for why).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.money import InvalidMoney, format_money, parse_money
from domain.order_events import OrderEvent
from domain.timefmt import InvalidTimestamp, format_time, parse_time, truncate_to_millis

__all__ = ["InvalidPurchase", "SessionPurchase", "purchase_from_order"]


class InvalidPurchase(ValueError):
    """A session-purchase record that cannot be read (only a bug or a foreign producer)."""


@dataclass(frozen=True, slots=True)
class SessionPurchase:
    """One created order: its revenue, its units per sku and the session it names."""

    order_id: str
    session_id: str | None
    customer_id: str | None
    currency: str
    total: Decimal
    items: tuple[tuple[str, int], ...]
    occurred_at: datetime
    #: The ``orders`` partition the order came from (-1: unknown). Lateness of
    #: purchases is judged per source partition, whose order is the input's.
    source_partition: int = -1

    @property
    def key(self) -> str:
        """The record key: the session, so that it meets the session's clicks."""
        return self.session_id if self.session_id is not None else self.order_id

    def units_per_sku(self) -> dict[str, int]:
        """Units ordered per sku (an order may list one sku on several lines)."""
        units: dict[str, int] = {}
        for sku, quantity in self.items:
            units[sku] = units.get(sku, 0) + quantity
        return units

    def to_wire(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "session_id": self.session_id,
            "customer_id": self.customer_id,
            "currency": self.currency,
            "total": format_money(self.total),
            "items": [{"sku": sku, "quantity": quantity} for sku, quantity in self.items],
            "occurred_at": format_time(self.occurred_at),
            "source_partition": self.source_partition,
        }

    @classmethod
    def from_wire(cls, value: Mapping[str, Any]) -> SessionPurchase:
        """Read the wire form; anything unexpected raises :class:`InvalidPurchase`."""
        try:
            items = tuple(
                (str(item["sku"]), _quantity(item["quantity"])) for item in value["items"]
            )
            return cls(
                order_id=_text(value["order_id"], "order_id"),
                session_id=_optional_text(value.get("session_id"), "session_id"),
                customer_id=_optional_text(value.get("customer_id"), "customer_id"),
                currency=_text(value["currency"], "currency"),
                total=parse_money(value["total"], field="total"),
                items=items,
                occurred_at=truncate_to_millis(parse_time(value["occurred_at"])),
                source_partition=_source(value.get("source_partition", -1)),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidPurchase(f"session purchase: missing or ill-typed field {exc}") from None
        except (InvalidMoney, InvalidTimestamp) as exc:
            raise InvalidPurchase(f"session purchase: {exc}") from None


def _text(raw: object, name: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise InvalidPurchase(f"session purchase: {name} must be a non-empty string")
    return raw


def _optional_text(raw: object, name: str) -> str | None:
    return None if raw is None else _text(raw, name)


def _quantity(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0:
        raise InvalidPurchase(f"session purchase: quantity must be a positive integer: {raw!r}")
    return raw


def _source(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise InvalidPurchase(f"session purchase: source_partition must be an integer: {raw!r}")
    return raw


def purchase_from_order(created: OrderEvent, source_partition: int = -1) -> SessionPurchase:
    """The session purchase of a validated ``order_created`` read from ``source_partition``."""
    if created.currency is None or created.total is None:
        raise InvalidPurchase(f"order {created.order_id}: created without currency or total")
    return SessionPurchase(
        order_id=created.order_id,
        session_id=created.session_id,
        customer_id=created.customer_id,
        currency=created.currency,
        total=created.total,
        items=tuple((item.sku, item.quantity) for item in created.items),
        occurred_at=created.occurred_at,
        source_partition=source_partition,
    )
