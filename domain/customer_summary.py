"""Per-customer order count and exact revenue: the fold behind ``GET /customers/{id}``.

DESIGN.md: "revenue" is the sum of the totals of created orders, per currency.
The summary is idempotent by ``order_id``: an order is counted once however
often its creation is delivered (redelivery after a crash, duplicates). The
memory of counted orders is bounded; redelivery only replays the short,
uncommitted tail of a partition, so the most recent ids are the ones needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.money import format_money
from domain.order_events import OrderEvent
from domain.timefmt import format_time, parse_time

__all__ = ["CorruptSummary", "CustomerSummary", "OrderPlaced", "count_order", "customer_view"]

#: How many recent order ids a customer remembers for de-duplication.
REMEMBERED_ORDERS = 512


class CorruptSummary(ValueError):
    """A stored customer summary that cannot be read back."""


@dataclass(frozen=True, slots=True)
class OrderPlaced:
    """The fact a customer summary folds: one created order."""

    order_id: str
    customer_id: str
    currency: str
    total: Decimal
    occurred_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "currency": self.currency,
            "total": format_money(self.total),
            "occurred_at": format_time(self.occurred_at),
        }

    @classmethod
    def from_event(cls, event: OrderEvent) -> OrderPlaced:
        """From a validated ``order_created`` (customer, currency and total are required there)."""
        if event.customer_id is None or event.currency is None or event.total is None:
            raise ValueError(f"event {event.event_id} is not a complete order_created")
        return cls(
            order_id=event.order_id,
            customer_id=event.customer_id,
            currency=event.currency,
            total=event.total,
            occurred_at=event.occurred_at,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrderPlaced:
        return cls(
            order_id=str(data["order_id"]),
            customer_id=str(data["customer_id"]),
            currency=str(data["currency"]),
            total=Decimal(data["total"]),
            occurred_at=parse_time(data["occurred_at"]),
        )


@dataclass(frozen=True, slots=True)
class CustomerSummary:
    """What one customer has ordered; money per currency, kept as exact decimals."""

    customer_id: str
    orders: int = 0
    revenue: dict[str, Decimal] = field(default_factory=dict)
    last_order_at: datetime | None = None
    counted_orders: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "orders": self.orders,
            "revenue": {cur: format_money(amount) for cur, amount in self.revenue.items()},
            "last_order_at": None
            if self.last_order_at is None
            else format_time(self.last_order_at),
            "counted_orders": list(self.counted_orders),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CustomerSummary:
        """Read back :meth:`to_dict`'s output; anything else raises :class:`CorruptSummary`."""
        try:
            last = data.get("last_order_at")
            return cls(
                customer_id=str(data["customer_id"]),
                orders=int(data["orders"]),
                revenue={cur: Decimal(amount) for cur, amount in data["revenue"].items()},
                last_order_at=None if last is None else parse_time(last),
                counted_orders=tuple(data.get("counted_orders", ())),
            )
        except (AttributeError, KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise CorruptSummary(f"stored customer summary is unreadable: {exc!r:.200}") from None


def count_order(summary: CustomerSummary | None, order: OrderPlaced) -> CustomerSummary:
    """Fold one created order into the summary; an order already counted changes nothing."""
    current = summary or CustomerSummary(customer_id=order.customer_id)
    if order.order_id in current.counted_orders:
        return current
    revenue = dict(current.revenue)
    revenue[order.currency] = revenue.get(order.currency, Decimal("0")) + order.total
    last = current.last_order_at
    if last is None or order.occurred_at > last:
        last = order.occurred_at
    remembered = (*current.counted_orders, order.order_id)[-REMEMBERED_ORDERS:]
    return replace(
        current,
        orders=current.orders + 1,
        revenue=revenue,
        last_order_at=last,
        counted_orders=remembered,
    )


def customer_view(summary: CustomerSummary) -> dict[str, Any]:
    """The JSON of ``GET /customers/{customer_id}`` (DESIGN.md)."""
    return {
        "customer_id": summary.customer_id,
        "orders": summary.orders,
        "revenue": {cur: format_money(summary.revenue[cur]) for cur in sorted(summary.revenue)},
        "last_order_at": None
        if summary.last_order_at is None
        else format_time(summary.last_order_at),
    }
