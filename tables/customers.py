"""``customers``: per-customer order count and revenue, keyed by ``customer_id``.

Fed by the ``customer-orders`` repartition topic so that each customer's
summary has exactly one owner; served by ``GET /customers/{customer_id}``.
"""

from __future__ import annotations

from app.main import app, settings
from tables.options import rocksdb_options

__all__ = ["customers_table"]

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
