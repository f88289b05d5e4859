"""Customer summaries: created orders, re-keyed by customer, folded into ``customers``.

Input: the internal ``customer-orders`` topic (key ``customer_id``; value the
``order_created`` event in its wire form), written by the order pipeline once
per created order. The fold is :func:`domain.customer_summary.count_order`,
idempotent by ``order_id``, so a re-send after a crash counts once.
"""

from __future__ import annotations

import logging
from typing import Any

from app.kafka.codec import decode_json_object
from app.kafka.topics import customer_orders_topic
from app.main import app
from domain.customer_summary import CustomerSummary, OrderPlaced, count_order
from domain.order_events import order_event_from_wire
from tables.customers import customers_table

__all__ = ["customer_summaries", "fold_created_order"]

logger = logging.getLogger(__name__)


def fold_created_order(raw_value: bytes) -> None:
    """Apply one ``customer-orders`` record to the customers table."""
    created = order_event_from_wire("orders", decode_json_object(raw_value))
    placed = OrderPlaced.from_event(created)
    stored: dict[str, Any] | None = customers_table.get(placed.customer_id)
    summary = None if stored is None else CustomerSummary.from_dict(stored)
    updated = count_order(summary, placed)
    # Written even when unchanged (a redelivery): re-asserting heals a changelog
    # record lost in a crash (see agents.orders).
    customers_table[placed.customer_id] = updated.to_dict()


@app.agent(customer_orders_topic, name="customer-summaries")
async def customer_summaries(stream: Any) -> None:
    """Fold created orders into per-customer summaries (internal topic: trusted input)."""
    async for raw_value in stream:
        fold_created_order(raw_value)
