"""The customer summary fold: exact money per currency, idempotent by order."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from domain.customer_summary import CustomerSummary, OrderPlaced, count_order, customer_view


def placed(order_id: str, total: str, currency: str = "EUR", minute: int = 0) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        customer_id="c-1",
        currency=currency,
        total=Decimal(total),
        occurred_at=datetime(2026, 11, 21, 10, minute, tzinfo=UTC),
    )


def test_revenue_is_exact_per_currency() -> None:
    summary = None
    for order in [placed("o-1", "0.10"), placed("o-2", "0.20"), placed("o-3", "9.99", "USD")]:
        summary = count_order(summary, order)
    assert summary is not None
    assert customer_view(summary) == {
        "customer_id": "c-1",
        "orders": 3,
        "revenue": {"EUR": "0.30", "USD": "9.99"},
        "last_order_at": "2026-11-21T10:00:00.000Z",
    }


def test_same_order_twice_counts_once_also_after_a_round_trip() -> None:
    summary = count_order(None, placed("o-1", "37.50", minute=5))
    restored = CustomerSummary.from_dict(summary.to_dict())
    assert count_order(restored, placed("o-1", "37.50", minute=5)) == restored
    assert restored.orders == 1


def test_last_order_at_is_the_latest_event_time_whatever_the_arrival_order() -> None:
    late_first = count_order(
        count_order(None, placed("o-2", "1.00", minute=9)), placed("o-1", "1.00", minute=1)
    )
    assert customer_view(late_first)["last_order_at"] == "2026-11-21T10:09:00.000Z"
