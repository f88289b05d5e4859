"""Topic names fixed by DESIGN.md: the single place they are spelled out.

Kept free of Faust so that the load generator, the tests and operational
tools can name topics without building the App.
"""

from __future__ import annotations

__all__ = [
    "ALERTS",
    "CLICKSTREAM",
    "DEAD_LETTERS",
    "INPUT_TOPICS",
    "ORDERS",
    "ORDER_STATUS",
    "PAYMENTS",
    "SHIPMENTS",
]

ORDERS = "orders"
PAYMENTS = "payments"
SHIPMENTS = "shipments"
CLICKSTREAM = "clickstream"

ORDER_STATUS = "order-status"
ALERTS = "alerts"
DEAD_LETTERS = "dead-letters"


def order_commands(app_id: str) -> str:
    """Internal topic of commands for the order pipeline (fraud holds, pending expiry).

    Keyed by ``order_id`` with the partition count of ``orders``, so a command
    reaches the worker that owns the order, in the same agent as its events.
    """
    return f"{app_id}-order-commands"


#: Input topics; the first three are keyed by ``order_id`` and co-partitioned.
INPUT_TOPICS = (ORDERS, PAYMENTS, SHIPMENTS, CLICKSTREAM)
ORDER_PIPELINE_TOPICS = (ORDERS, PAYMENTS, SHIPMENTS)
