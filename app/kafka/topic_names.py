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


def customer_orders(app_id: str) -> str:
    """Created orders re-keyed by ``customer_id`` (customer summaries, fraud velocity)."""
    return f"{app_id}-customer-orders"


def session_purchases(app_id: str) -> str:
    """Created orders re-keyed by ``session_id``, co-partitioned with ``clickstream``."""
    return f"{app_id}-session-purchases"


def webhook_retry(app_id: str, level: int) -> str:
    """Retry level ``level`` (1-based) of the order-status webhook."""
    return f"{app_id}-webhook-retry-{level}"


#: The App's tables (``tables/``); each keeps its state in a changelog topic.
TABLES = ("orders", "customers", "fraud-velocity", "analytics")


def changelog_topics(app_id: str) -> tuple[str, ...]:
    """Changelog topic of every table, named as Faust names them.

    Created (compacted) by the preflight: a changelog that Faust has to create
    itself while the worker starts can show "0 partitions" to the table's
    first write, whose agent then crashes with ``PartitionsMismatch``.
    """
    return tuple(f"{app_id}-{table}-changelog" for table in TABLES)


def is_webhook_retry(app_id: str, name: str) -> bool:
    """Whether ``name`` is a webhook retry topic of ``app_id`` (any level)."""
    prefix = webhook_retry(app_id, 0)[:-1]
    return name.startswith(prefix) and name[len(prefix) :].isdigit()


def replay_generation(app_id: str) -> str:
    """One-partition compacted log of ``shopstream replay`` runs (see :mod:`app.replay.generation`).

    Not an agent's topic and never cleared: workers compare its latest record
    with the marker in their data directory to drop table stores older than the
    last replay.
    """
    return f"{app_id}-replay-generation"


def internal_topics(app_id: str, *, webhook_retry_levels: int = 0) -> tuple[str, ...]:
    """Every internal topic an agent reads.

    They are created before the consumer group's first assignment: Faust's
    assignor ignores a topic that is still being created ("Ignoring missing
    topic"), and its agent would then silently read nothing.
    """
    retries = tuple(webhook_retry(app_id, level) for level in range(1, webhook_retry_levels + 1))
    return (order_commands(app_id), customer_orders(app_id), session_purchases(app_id), *retries)


#: Input topics; the first three are keyed by ``order_id`` and co-partitioned.
INPUT_TOPICS = (ORDERS, PAYMENTS, SHIPMENTS, CLICKSTREAM)
ORDER_PIPELINE_TOPICS = (ORDERS, PAYMENTS, SHIPMENTS)
