"""``customers``: per-customer order count and revenue, keyed by ``customer_id``.

Fed by the ``customer-orders`` repartition topic so that each customer's
summary has exactly one owner; served by ``GET /customers/{customer_id}``.

The agent (:mod:`agents.customer_orders`) changes summaries in memory, in
:data:`customers_cache` (:mod:`tables.commit_cache`), which writes each
changed summary once per commit; :func:`stored_customer` is the one way to
read a summary, the rows not written yet first.
"""

from __future__ import annotations

from typing import Any

from app.main import app, settings
from tables.commit_cache import CommitCache, KeyedRows
from tables.options import rocksdb_options
from tables.ownership import key_partition

__all__ = ["customers_cache", "customers_table", "stored_customer"]

customers_table = app.Table(
    "customers",
    default=None,
    # bytes keys use the raw codec: the key bytes, and so the partition, equal the
    # input topics' (a JSON-encoded key would hash to another partition).
    key_type=bytes,
    value_type=None,
    partitions=settings.partitions,
    options=rocksdb_options(),
    help="Per-customer order count, revenue per currency and last order time.",
)


def _open_rows(partition: int) -> KeyedRows:
    return KeyedRows(customers_table, partition)


#: Summaries (``CustomerSummary.to_dict()``) changed by the agent and not written yet.
customers_cache: CommitCache[KeyedRows] = CommitCache(customers_table, _open_rows)


def stored_customer(customer_id: str) -> dict[str, Any] | None:
    """The customer's newest summary (as a dict): pending in the cache, else in the table."""
    pending = customers_cache.peek(key_partition(customers_table, customer_id))
    if pending is not None:
        stored: dict[str, Any] | None = pending.get(customer_id)
        return stored
    stored_now: dict[str, Any] | None = customers_table.get(customer_id)
    return stored_now
