"""Applying a batch of records to a partition's rows, writing each touched row once.

Writing every change of every record costs a changelog message each (3-4 per
click). Within a batch, the records of a partition are applied one by one, in
offset order, to :class:`BufferedRows`, an overlay in memory over the stored
rows: each record sees the writes of the records before it, exactly as when
they were written one by one, so every decision (duplicate, replay, late,
expiry) is the one the record-at-a-time path makes. Then
:meth:`BufferedRows.flush_order` gives each touched row's *final* value once.

**Crash safety.** The source offsets of a batch are committed only after its
writes are flushed, so a crash replays the whole batch (and perhaps earlier
ones) over the rows it left: the stored rows plus *some prefix* of the flush
(one changelog partition keeps writes in order). The flush order keeps what
:mod:`domain.analytics_apply` relies on for replays:

1. minute aggregates (each remembers the offset of the last record it holds,
   so a replay never counts a record twice);
2. index entries put, and entries deleted whose owner row stays: an owner row
   never points at an entry that is missing;
3. owner rows (sessions, session-less orders): put or deleted (expired);
4. index entries of the owner rows deleted by expiry: the entry outlives its
   row, so a replayed expiry still finds and deletes the row;
5. the watermark, last: it has not moved past a record whose owner row is
   missing, so a replayed record is judged late or on time as the first time.

**The horizon moves only on a write.** Owner rows are pruned, and expired,
to the horizon of the watermark the records read, which in a batch is the
one held in memory; the flush puts it after the owner rows. So a crash
between the two could leave an owner row that no longer holds an old id (or
no longer exists, or exists anew), beside a stored watermark whose horizon
is still behind that id: the redelivered record then looks new and on
time, and is counted into the row a second life. Hence, as soon as a record
moves the horizon, :attr:`BufferedRows.must_write` says the rows must be
written (rows, then the watermark) before the next record is applied; every
fold then prunes to a horizon that is already in the changelog, as in the
record-at-a-time path. The event time of a live stream moves once a minute,
so this costs about one extra write of the changed rows per minute.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any, Final, cast

from domain.analytics_rows import (
    Decoded,
    Decoder,
    PartitionKeys,
    Row,
    RowReader,
    TypedRowStore,
    parse_index_key,
)
from domain.analytics_windows import Watermark, WindowPolicy

__all__ = ["BufferedRows", "Change"]

#: A row's final value in a batch; None deletes it.
Change = tuple[bytes, dict[str, Any] | None]
#: A row as the batch holds it: an object put by the apply path, a JSON object, or None (deleted).
_Held = Row | dict[str, Any] | None

_AGGREGATES = 0
_INDEX = 1
_OWNERS = 2
_EXPIRED_INDEX = 3
_WATERMARK = 4

#: The phase of each kind of row (the byte after the partition in its key); owner rows
#: otherwise. An index entry deleted with its owner row goes later (see ``_phase``).
_PHASE_OF_KIND: Final = {
    ord("m"): _AGGREGATES,
    ord("r"): _AGGREGATES,
    ord("w"): _WATERMARK,
    ord("i"): _INDEX,
}

#: Not in a cache (None is a value there: no such row).
_ABSENT: Final[Any] = object()


def _row_key(row: tuple[bytes, dict[str, Any]]) -> bytes:
    return row[0]


def _encoded(value: _Held) -> dict[str, Any] | None:
    return None if value is None else _json_object(value)


def _json_object(value: Row | dict[str, Any]) -> dict[str, Any]:
    return value if isinstance(value, dict) else value.to_dict()


class BufferedRows(TypedRowStore):
    """One partition's rows during a batch: reads see the batch's writes, nothing is stored yet.

    Values handed out are shared, not copied: the domain code builds new
    values from what it reads and never mutates them.
    """

    def __init__(self, base: RowReader, partition: int, policy: WindowPolicy) -> None:
        self._base = base
        self._keys = PartitionKeys(partition)
        self._policy = policy
        self._watermark_key = self._keys.watermark()
        self._changes: dict[bytes, _Held] = {}
        #: Stored rows read in this batch: as stored, and as objects (by ``get_row``).
        self._read: dict[bytes, dict[str, Any] | None] = {}
        self._decoded: dict[bytes, Any] = {}
        self._stored_horizon: int | None = _ABSENT
        self._must_write = False

    def get(self, key: bytes) -> dict[str, Any] | None:
        value = self._changes.get(key, _ABSENT)
        if value is _ABSENT:
            return self._stored(key)
        return _encoded(value)

    def get_row(self, key: bytes, decode: Decoder[Decoded]) -> Decoded:
        value = self._changes.get(key, _ABSENT)
        if value is _ABSENT:
            row = self._decoded.get(key, _ABSENT)
            if row is _ABSENT:
                row = self._decoded[key] = decode(self._stored(key))
            return cast(Decoded, row)
        if value is None or isinstance(value, dict):
            return decode(value)
        return cast(Decoded, value)  # the key's type: what the apply path put there

    def put(self, key: bytes, value: dict[str, Any]) -> None:
        self._hold(key, value)

    def put_row(self, key: bytes, row: Row) -> None:
        self._hold(key, row)

    def _hold(self, key: bytes, value: Row | dict[str, Any]) -> None:
        if key == self._watermark_key and not self._must_write:
            mark = (
                value if isinstance(value, Watermark) else Watermark.from_dict(_json_object(value))
            )
            self._must_write = self._policy.horizon(mark) != self._horizon_stored()
        self._changes[key] = value

    def _stored(self, key: bytes) -> dict[str, Any] | None:
        if key not in self._read:
            self._read[key] = self._base.get(key)
        return self._read[key]

    def _horizon_stored(self) -> int | None:
        """The horizon of the stored watermark (read once per batch: only a write moves it)."""
        if self._stored_horizon is _ABSENT:
            stored = Watermark.from_dict(self._stored(self._watermark_key))
            self._stored_horizon = self._policy.horizon(stored)
        return self._stored_horizon

    @property
    def must_write(self) -> bool:
        """The horizon moved: write the rows before the next record (see the module docstring)."""
        return self._must_write

    def delete(self, key: bytes) -> None:
        self._changes[key] = None

    def scan(self, start: bytes, stop: bytes) -> Iterator[tuple[bytes, dict[str, Any]]]:
        """Stored rows merged with the batch's writes, in key order.

        Lazy, like the stored scan: callers take what they need before writing.
        """
        changes = self._changes
        written = sorted(
            (
                (key, _json_object(value))
                for key, value in changes.items()
                if start <= key < stop and value is not None
            ),
            key=_row_key,
        )
        stored = ((k, v) for k, v in self._base.scan(start, stop) if k not in changes)
        return heapq.merge(stored, written, key=_row_key)

    def __len__(self) -> int:
        """How many rows the batch changed."""
        return len(self._changes)

    def flush_order(self) -> list[Change]:
        """Every changed row once, with its final value, in the crash-safe order above.

        Within a phase, rows keep the order they were first changed in (a
        stable sort by phase would give the same; appending to one list per
        phase costs less).
        """
        phases: list[list[Change]] = [[] for _ in range(_WATERMARK + 1)]
        phase = self._phase
        for change in self._changes.items():
            key, value = change
            phases[phase(change)].append((key, _encoded(value)))
        return [change for ordered in phases for change in ordered]

    def take_writes(self) -> list[Change]:
        """:meth:`flush_order`, forgetting it: the caller writes these to the base now.

        The rows written are then what the base holds, so they stay here as
        rows read (as objects too), and the rows read before are forgotten:
        a row changed again in the next interval (a session's next clicks) is
        not read back from the store and decoded again, and the rows held stay
        bounded by what one interval changes.
        """
        writes = self.flush_order()
        changes = self._changes
        self._read = dict(writes)
        self._decoded = {
            key: value
            for key, value in changes.items()
            if value is not None and not isinstance(value, dict)
        }
        self._changes = {}
        self._stored_horizon = _ABSENT
        self._must_write = False
        return writes

    def _exists(self, key: bytes) -> bool:
        value = self._changes.get(key, _ABSENT)
        if value is _ABSENT:
            return self._stored(key) is not None
        return value is not None

    def _phase(self, change: tuple[bytes, _Held]) -> int:
        key, value = change
        kind = key[key.index(b"|") + 1]  # the byte after the partition
        phase = _PHASE_OF_KIND.get(kind, _OWNERS)
        if phase != _INDEX or value is not None:
            return phase
        _minute, owner_kind, owner_id = parse_index_key(key)
        owner_stays = self._exists(self._keys.owner(owner_kind, owner_id))
        return _INDEX if owner_stays else _EXPIRED_INDEX
