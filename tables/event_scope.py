"""Writing a table on behalf of a chosen record of a batch.

Faust sends each table change to the changelog partition of the *current
event* (and stores it in that partition's database). An agent that takes
records in batches writes after the batch, when the current event is only the
last record taken, so it names the record whose partition the rows belong to.

:func:`write_rows` is the one way to write a batch's rows of one partition:
in bulk (:mod:`app.faust_patches.bulk_table_writes`: one RocksDB write batch,
changelog record batches) on the workers' RocksDB stores, through the Table
under :func:`as_current_event` otherwise (the in-memory store of unit tests);
:func:`stored_row` reads one row of a known partition the same way.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from faust.streams import _current_event
from faust.types import EventT, TableT

from app.faust_patches.bulk_table_writes import NOT_READ, read_partition, write_partition

__all__ = ["as_current_event", "stored_row", "write_rows"]


@contextmanager
def as_current_event(event: EventT[Any]) -> Iterator[None]:
    """Make ``event`` the current event while the block writes its partition's rows."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def write_rows(
    table: TableT[Any, Any], event: EventT[Any], rows: Sequence[tuple[Any, Any | None]]
) -> None:
    """Write ``rows`` (a None value deletes) to the partition of ``event``, in that order."""
    if write_partition(table, event.message.partition, rows):
        return
    with as_current_event(event):
        for key, value in rows:
            if value is None:
                del table[key]
            else:
                table[key] = value


def stored_row(table: TableT[Any, Any], partition: int, key: Any) -> Any | None:
    """The stored value of ``key`` (None: no row) in ``table``'s partition ``partition``.

    One lookup in that partition's store on the workers' RocksDB stores
    (:func:`~app.faust_patches.bulk_table_writes.read_partition`), through the
    Table otherwise. For a batch agent that knows the partition of the key.
    """
    value = read_partition(table, partition, key)
    return table.get(key) if value is NOT_READ else value
