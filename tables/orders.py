"""``orders``: each order's event-sourced state, keyed by ``order_id``.

The value is :meth:`domain.order_state.OrderState.to_dict`: the facts applied,
the events waiting for a prerequisite, the published history and the ids of
recently applied events. Keeping the de-duplication memory in the same record
as the state it guards means one changelog write updates both atomically.

The order agent works in batches: a state it decided is *held* here, in
memory, until the batch's outputs are acknowledged and the state is written
(:func:`hold_order`, :func:`release_held`). Batches are pipelined (the next is
decided while the previous one's outputs are being acknowledged), so a held
state may belong to any batch still waiting: each batch releases only the
states that are still its own. :func:`current_order` is the one way to read
an order: the held state first, then the table, so the HTTP lookups,
``wait_for`` and the next batches see a decision as soon as it is made.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.main import app, settings
from domain.order_state import OrderState
from tables.event_scope import stored_row
from tables.options import rocksdb_options

__all__ = ["current_order", "hold_order", "orders_table", "release_held"]

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

#: The newest state decided for each order whose batch has not yet written it to ``orders_table``.
_held: dict[str, OrderState] = {}


def current_order(order_id: str, partition: int | None = None) -> OrderState | None:
    """The order's newest state: held by a batch not yet written, else stored, else None.

    ``partition``: the order's, when the caller knows it (the agent: its
    record's), for one store lookup (:func:`tables.event_scope.stored_row`).
    """
    held = _held.get(order_id)
    if held is not None:
        return held
    stored: dict[str, Any] | None = (
        orders_table.get(order_id)
        if partition is None
        else stored_row(orders_table, partition, order_id)
    )
    return None if stored is None else OrderState.from_dict(stored)


def hold_order(state: OrderState) -> None:
    """Keep ``state`` as the order's newest until the batch that decided it writes it."""
    _held[state.order_id] = state


def release_held(states: Iterable[OrderState]) -> None:
    """Forget a batch's held ``states``: written to the table, or dropped because it failed.

    A state a later batch replaced stays held: it is newer than the table.
    """
    for state in states:
        if _held.get(state.order_id) is state:
            del _held[state.order_id]
