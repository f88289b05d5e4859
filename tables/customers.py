"""``customers``: per-customer order count and revenue, keyed by ``customer_id``.

Fed by the ``customer-orders`` repartition topic so that each customer's
summary has exactly one owner; served by ``GET /customers/{customer_id}``.

The agent (:mod:`agents.customer_orders`) changes summaries in memory, in
:data:`customers_cache` (:mod:`tables.commit_cache`), which writes each
changed summary once per commit; :func:`stored_customer` is the one way to
read a summary, the rows not written yet first. The cache holds
:class:`~domain.customer_summary.CustomerSummary` objects and writes their
``to_dict()``.
"""

from __future__ import annotations

from typing import Any

from faust.types import TableT

from app.main import app, settings
from domain.customer_summary import CustomerSummary
from tables.commit_cache import CommitCache, KeyedRows, keyed_objects_cache
from tables.options import rocksdb_options
from tables.ownership import key_partition

__all__ = ["customer_rows_cache", "customers_cache", "customers_table", "stored_customer"]

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


def customer_rows_cache(table: TableT[Any, Any]) -> CommitCache[KeyedRows]:
    """The commit cache of ``table``'s summaries: :class:`CustomerSummary` objects in memory."""
    return keyed_objects_cache(table, CustomerSummary.from_dict, CustomerSummary.to_dict)


#: Summaries changed by the agent and not written yet.
customers_cache = customer_rows_cache(customers_table)


def stored_customer(customer_id: str) -> CustomerSummary | None:
    """The customer's newest summary: pending in the cache, else in the table.

    Raises :class:`domain.customer_summary.CorruptSummary` for a stored row it cannot read.
    """
    pending = customers_cache.peek(key_partition(customers_table, customer_id))
    if pending is not None:
        summary: CustomerSummary | None = pending.get(customer_id)
        return summary
    stored: dict[str, Any] | None = customers_table.get(customer_id)
    return None if stored is None else CustomerSummary.from_dict(stored)
