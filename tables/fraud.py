"""``fraud_velocity``: each customer's recent orders, for the sliding-hour velocity check.

Keyed by ``customer_id`` (fed by the ``customer-orders`` repartition topic), so
one worker owns each customer's window; the changelog makes it survive crashes.

The agent (:mod:`agents.customer_orders`) keeps changed windows in memory, in
:data:`fraud_cache` (:mod:`tables.commit_cache`), which writes each once per
commit. A window goes into the cache only once the alerts and holds it
records are acknowledged ("outputs before state", see :mod:`agents.fraud`).
"""

from __future__ import annotations

from typing import Any

from faust.types import TableT

from app.main import app, settings
from domain.fraud import CustomerVelocity
from tables.commit_cache import CommitCache, KeyedRows, keyed_objects_cache
from tables.options import rocksdb_options

__all__ = ["fraud_cache", "fraud_velocity_table", "velocity_rows_cache"]

fraud_velocity_table = app.Table(
    "fraud-velocity",
    default=None,
    key_type=bytes,
    value_type=None,
    partitions=settings.partitions,
    options=rocksdb_options(),
    help="Per-customer orders of the last hour(s) in event time, with their fraud flags.",
)


def velocity_rows_cache(table: TableT[Any, Any]) -> CommitCache[KeyedRows]:
    """The commit cache of ``table``'s windows: :class:`CustomerVelocity` objects in memory."""
    return keyed_objects_cache(table, CustomerVelocity.from_dict, CustomerVelocity.to_dict)


#: Velocity windows acknowledged and not written yet.
fraud_cache = velocity_rows_cache(fraud_velocity_table)
