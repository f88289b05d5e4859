"""``fraud_velocity``: each customer's recent orders, for the sliding-hour velocity check.

Keyed by ``customer_id`` (fed by the ``customer-orders`` repartition topic), so
one worker owns each customer's window; the changelog makes it survive crashes.
"""

from __future__ import annotations

from app.main import app, settings
from tables.options import rocksdb_options

__all__ = ["fraud_velocity_table"]

fraud_velocity_table = app.Table(
    "fraud-velocity",
    default=None,
    key_type=bytes,
    value_type=None,
    partitions=settings.partitions,
    options=rocksdb_options(),
    help="Per-customer orders of the last hour(s) in event time, with their fraud flags.",
)
