"""Customer summaries: a created order folded into its customer's summary, in memory.

Called by :mod:`agents.customer_orders` (the one agent reading the
``customer-orders`` topic) for each created order, with the pending rows of
the record's partition (:data:`tables.customers.customers_cache`): the
summary is read and changed there and written to the ``customers`` table
once per commit. The fold is :func:`domain.customer_summary.count_order`,
idempotent by ``order_id``, so a re-send after a crash counts once.
"""

from __future__ import annotations

from domain.customer_summary import CustomerSummary, OrderPlaced, count_order
from tables.commit_cache import KeyedRows

__all__ = ["count_created_order"]


def count_created_order(rows: KeyedRows, placed: OrderPlaced) -> None:
    """Fold one created order into its customer's summary held in ``rows``.

    ``rows`` hold :class:`CustomerSummary` objects (:func:`tables.customers.customer_rows_cache`).
    Raises :class:`domain.customer_summary.CorruptSummary` when the stored
    summary cannot be read.
    """
    summary: CustomerSummary | None = rows.get(placed.customer_id)
    # Put even when unchanged (a redelivery): re-asserting heals a changelog record
    # lost in a crash (see agents.orders); the cache writes it once per commit anyway.
    rows.put(placed.customer_id, count_order(summary, placed))
