"""``fraud_velocity``: each customer's recent orders, for the sliding-hour velocity check.

Keyed by ``customer_id`` (fed by the ``customer-orders`` repartition topic), so
one worker owns each customer's window; the changelog makes it survive crashes.

The agent (:mod:`agents.customer_orders`) keeps changed windows in memory, in
:data:`fraud_cache` (:mod:`tables.commit_cache`), which writes each once per
commit. A window goes into the cache only once the alerts and holds it
records are acknowledged ("outputs before state", see :mod:`agents.fraud`).
"""

from __future__ import annotations

from app.main import app, settings
from tables.commit_cache import CommitCache, KeyedRows
from tables.options import rocksdb_options

__all__ = ["fraud_cache", "fraud_velocity_table"]

fraud_velocity_table = app.Table(
    "fraud-velocity",
    default=None,
    key_type=bytes,
    value_type=None,
    partitions=settings.partitions,
    options=rocksdb_options(),
    help="Per-customer orders of the last hour(s) in event time, with their fraud flags.",
)


def _open_rows(partition: int) -> KeyedRows:
    return KeyedRows(fraud_velocity_table, partition)


#: Velocity windows (``CustomerVelocity.to_dict()``) acknowledged and not written yet.
fraud_cache: CommitCache[KeyedRows] = CommitCache(fraud_velocity_table, _open_rows)
