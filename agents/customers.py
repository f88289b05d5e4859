"""Customer summaries: created orders, re-keyed by customer, folded into ``customers``.

Input: the internal ``customer-orders`` topic (key ``customer_id``), written by
the order pipeline once per created order. The fold itself is
:func:`domain.customer_summary.count_order`, idempotent by ``order_id``.
"""

from __future__ import annotations

import logging
from typing import Any

from app.codec import decode_json_object
from app.main import app
from app.topics import customer_orders_topic
from domain.customer_summary import CustomerSummary, OrderPlaced, count_order
from tables.customers import customers_table

__all__ = ["customer_summaries", "fold_order_placed"]

logger = logging.getLogger(__name__)


def fold_order_placed(raw_value: bytes) -> None:
    """Apply one ``customer-orders`` record to the customers table."""
    placed = OrderPlaced.from_dict(decode_json_object(raw_value))
    stored: dict[str, Any] | None = customers_table.get(placed.customer_id)
    summary = None if stored is None else CustomerSummary.from_dict(stored)
    updated = count_order(summary, placed)
    if updated is not summary:
        customers_table[placed.customer_id] = updated.to_dict()


@app.agent(customer_orders_topic, name="customer-summaries")
async def customer_summaries(stream: Any) -> None:
    """Fold created orders into per-customer summaries (internal topic: trusted input)."""
    async for raw_value in stream:
        fold_order_placed(raw_value)
