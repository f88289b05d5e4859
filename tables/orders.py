"""``orders``: each order's event-sourced state, keyed by ``order_id``.

The value is :meth:`domain.order_state.OrderState.to_dict`: the facts applied,
the events waiting for a prerequisite, the published history and the ids of
recently applied events. Keeping the de-duplication memory in the same record
as the state it guards means one changelog write updates both atomically.
"""

from __future__ import annotations

from app.main import app, settings
from tables.options import rocksdb_options

__all__ = ["orders_table"]

orders_table = app.Table(
    "orders",
    default=None,
    # bytes keys use the raw codec: the key bytes, and so the partition, equal the
    # input topics' (a JSON-encoded key would hash to another partition).
    key_type=bytes,
    value_type=None,
    partitions=settings.partitions,
    options=rocksdb_options(),
    help="Event-sourced order state (status, history, pending events, seen ids).",
)
