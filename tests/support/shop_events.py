"""Builders of DESIGN.md events for integration tests (plain dicts, wire format)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.timefmt import format_time

__all__ = ["ShopScript"]


class ShopScript:
    """Makes events with unique ids under one prefix, and advancing event times."""

    def __init__(self, prefix: str, start: datetime | None = None) -> None:
        self.prefix = prefix
        self.clock = start or datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
        self.counter = 0

    def _next(self) -> tuple[str, str]:
        self.counter += 1
        self.clock += timedelta(seconds=1)
        return f"{self.prefix}-e{self.counter}", format_time(self.clock)

    def order_id(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def created(
        self,
        order: str,
        *,
        total: str = "37.50",
        currency: str = "EUR",
        customer: str | None = None,
    ) -> tuple[str, str, dict[str, Any]]:
        event_id, at = self._next()
        order_id = self.order_id(order)
        value = {
            "event_id": event_id,
            "type": "order_created",
            "order_id": order_id,
            "customer_id": customer or f"{order_id}-customer",
            "session_id": f"{order_id}-session",
            "currency": currency,
            "total": total,
            "items": [{"sku": "sku-1", "category": "books", "quantity": 1, "unit_price": total}],
            "occurred_at": at,
        }
        return "orders", order_id, value

    def cancelled(self, order: str) -> tuple[str, str, dict[str, Any]]:
        event_id, at = self._next()
        order_id = self.order_id(order)
        return (
            "orders",
            order_id,
            {
                "event_id": event_id,
                "type": "order_cancelled",
                "order_id": order_id,
                "reason": "customer_request",
                "occurred_at": at,
            },
        )

    def payment(
        self,
        order: str,
        kind: str,
        *,
        amount: str = "37.50",
        currency: str = "EUR",
        payment: str = "p1",
    ) -> tuple[str, str, dict[str, Any]]:
        event_id, at = self._next()
        order_id = self.order_id(order)
        return (
            "payments",
            order_id,
            {
                "event_id": event_id,
                "type": f"payment_{kind}",
                "payment_id": f"{order_id}-{payment}",
                "order_id": order_id,
                "amount": amount,
                "currency": currency,
                "method": "card",
                "occurred_at": at,
            },
        )

    def shipment(self, order: str, kind: str) -> tuple[str, str, dict[str, Any]]:
        event_id, at = self._next()
        order_id = self.order_id(order)
        return (
            "shipments",
            order_id,
            {
                "event_id": event_id,
                "type": f"shipment_{kind}",
                "shipment_id": f"{order_id}-sh1",
                "order_id": order_id,
                "carrier": "dhl",
                "occurred_at": at,
            },
        )
