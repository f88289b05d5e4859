"""Changed table rows kept in memory and written once per key, just before Faust commits.

Writing a table row per change costs a changelog message per change; Kafka
Streams (its record cache) and Quix Streams write each changed key once per
commit instead. A :class:`CommitCache` does that for one Faust table: the
agent applies its records to the *pending rows* of a partition (any object
with ``__len__`` and ``take_writes``, see :class:`PendingRows`; a plain keyed
table can use :class:`KeyedRows`), which it reads and changes in memory, and
the rows are written with :func:`tables.event_scope.write_rows` (to the local
store and to the changelog partition Faust would use, in bulk) when:

* Faust is about to commit: :class:`CommitCacheSensor` is a ``faust.Sensor``
  whose ``on_commit_initiated`` writes every cache. faust 0.15.3 calls it
  first in ``Consumer.force_commit``, synchronously, before it chooses the
  offsets to commit, on every commit path (the timer, ``commit_every``, a
  stop); the producer is then flushed before the offsets are committed. So a
  record's rows, put into the cache before the record is acked, are always
  written before an offset covering it is committed (FAUST_NOTES "The commit");
* the rows held reach ``max_rows`` (:meth:`CommitCache.write_if_full`);
* the agent needs it (:meth:`CommitCache.write`: analytics writes a
  partition as soon as its expiry horizon moves, see
  :mod:`domain.analytics_batch`).

Revoked partitions are dropped, not written (:func:`install_commit_caches`
connects ``app.on_partitions_revoked``; Faust sends it after the records in
flight were processed and after it forgot the partitions' acks, so no later
commit covers them): their uncommitted records are redelivered to the next
owner, which restores the table from the changelog.

How to use it, for any table (analytics: :mod:`tables.analytics`):

* read and change rows only through ``cache.rows(event)`` (in the agent) or
  ``cache.peek(partition)`` (outside it; None: nothing pending, read the
  table), synchronously: no ``await`` between a read and the write it decides;
* put a record's changes in before the record is acked (before the agent's
  body or batch handler returns, or ``take_events`` moves on), and call
  :meth:`CommitCache.write_if_full` between records;
* the events' topics must be co-partitioned with the table (a partition is
  dropped when a topic partition that fed it is revoked);
* a crash keeps a prefix of each partition's writes, in ``take_writes``
  order; if crash safety needs an order among one partition's rows, the
  pending rows' ``take_writes`` gives it (analytics: aggregates, index,
  owners, watermark), and a write that must come early is the agent's
  :meth:`CommitCache.write`;
* a write that fails raises out of the sensor into Faust's commit, which then
  does not happen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any, Generic, Protocol, TypeVar

import faust
from faust.types import TP, AppT, ConsumerT, EventT, TableT
from mode import BaseSignalT

from tables.event_scope import stored_row, write_rows

__all__ = [
    "CommitCache",
    "CommitCacheSensor",
    "KeyedRows",
    "PendingRows",
    "install_commit_caches",
    "keyed_objects_cache",
]

logger = logging.getLogger(__name__)

#: Rows held by one cache (all partitions) before they are written early.
DEFAULT_MAX_ROWS = 20_000


class PendingRows(Protocol):
    """The changed rows of one partition, as the cache keeps them."""

    def __len__(self) -> int:
        """How many rows are changed and not written yet."""
        ...

    def take_writes(self) -> list[tuple[Any, Any | None]]:
        """The changed rows in the order they must be written (None deletes), now forgotten."""
        ...


P = TypeVar("P", bound=PendingRows)


def _same(value: Any) -> Any:
    return value


class CommitCache(Generic[P]):
    """One table's pending rows, per partition, written once per key per commit."""

    def __init__(
        self,
        table: TableT[Any, Any],
        open_rows: Callable[[int], P],
        *,
        max_rows: int = DEFAULT_MAX_ROWS,
        encode: Callable[[Any], Any] = _same,
    ) -> None:
        self.table = table
        self.max_rows = max_rows
        self._open_rows = open_rows
        self._encode = encode
        self._rows: dict[int, P] = {}
        # The last event of each partition: Faust writes a table row to the
        # store and changelog partition of the "current event".
        self._events: dict[int, EventT[Any]] = {}
        #: The input topics whose records changed each partition's rows.
        self._sources: dict[int, set[str]] = {}

    def rows(self, event: EventT[Any]) -> P:
        """The pending rows of ``event``'s partition; the partition is written with ``event``."""
        message = event.message
        partition = message.partition
        self._events[partition] = event
        rows = self._rows.get(partition)
        if rows is None:
            rows = self._rows[partition] = self._open_rows(partition)
            self._sources[partition] = set()
        self._sources[partition].add(message.topic)
        return rows

    def peek(self, partition: int) -> P | None:
        """The pending rows of a partition, for reads outside the stream; None when none."""
        return self._rows.get(partition)

    def pending(self) -> int:
        """Rows held, all partitions together."""
        return sum(len(rows) for rows in self._rows.values())

    def write(self, partition: int) -> None:
        """Write one partition's pending rows to the table now."""
        rows = self._rows.get(partition)
        if rows is None:
            return
        writes = rows.take_writes()  # also when empty: rows may hold a read cache to forget
        if not writes:
            return
        encode = self._encode
        write_rows(
            self.table,
            self._events[partition],
            [(key, None if value is None else encode(value)) for key, value in writes],
        )

    def write_all(self) -> None:
        """Write every partition's pending rows (before a commit)."""
        for partition in list(self._rows):
            self.write(partition)

    async def write_all_in_parts(self) -> None:
        """Write every partition's pending rows, one partition per turn of the event loop.

        For work that need not finish before a commit (a route that caught up):
        a partition's rows are taken and written in one step, as :meth:`write`
        does, and other tasks run between two partitions. At half the bench's
        load the whole write held the loop for 2.4 ms (median) and up to 16 ms,
        and the records that arrived meanwhile, orders among them, waited.
        A partition revoked or written by a commit meanwhile has nothing left
        to write.
        """
        for partition in list(self._rows):
            self.write(partition)
            await asyncio.sleep(0)

    def write_if_full(self) -> bool:
        """Write everything when ``max_rows`` are held; call it between records."""
        if self.pending() < self.max_rows:
            return False
        self.write_all()
        return True

    def revoked(self, revoked: Iterable[TP]) -> None:
        """Drop the partitions whose records came from a revoked topic partition."""
        gone = set(revoked)
        self.drop(
            partition
            for partition, topics in list(self._sources.items())
            if any(TP(topic, partition) in gone for topic in topics)
        )

    def drop(self, partitions: Iterable[int]) -> None:
        """Forget the pending rows of ``partitions`` without writing them (revoked)."""
        for partition in list(partitions):
            rows = self._rows.pop(partition, None)
            self._events.pop(partition, None)
            self._sources.pop(partition, None)
            if rows is not None and len(rows):
                logger.info(
                    "%s partition %d revoked: %d pending rows dropped (their records are redelivered)",
                    self.table.name,
                    partition,
                    len(rows),
                )


class CommitCacheSensor(faust.Sensor):
    """Writes the caches' pending rows when Faust starts a commit, before it picks the offsets."""

    def __init__(self, caches: Iterable[CommitCache[Any]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.caches = list(caches)

    def on_commit_initiated(self, consumer: ConsumerT) -> Any:
        # A failure propagates into Faust's force_commit: no commit without the rows.
        for cache in self.caches:
            cache.write_all()
        return None


def install_commit_caches(app: AppT, *caches: CommitCache[Any]) -> CommitCacheSensor:
    """Write ``caches`` before every commit of ``app`` and drop their revoked partitions."""
    sensor = CommitCacheSensor(caches)
    app.sensors.add(sensor)

    async def _drop_revoked(
        sender: Any, /, *args: Any, signal: BaseSignalT[Any], **kwargs: Any
    ) -> None:
        revoked: set[TP] = args[0]
        for cache in caches:
            cache.revoked(revoked)

    app.on_partitions_revoked.connect(_drop_revoked)
    return sensor


_MISSING = object()


#: Rows of one partition a :class:`KeyedRows` remembers as stored, decoded (the oldest go first).
DEFAULT_MAX_CLEAN_ROWS = 4096


class KeyedRows:
    """Pending rows of one partition of a plain keyed table (read-through, last value wins).

    ``get`` sees the pending value, else the table's, read through ``decode``
    (the values are what the agent works with; the cache's ``encode`` turns
    them into the stored form when they are written, so a row read several
    times in a commit interval is decoded once and encoded once); a pending
    delete reads as missing. Writes come out in the order each key was first
    changed.

    Rows read or written are remembered, decoded, up to ``max_clean`` of them:
    the next commit interval reads them again without a lookup and a decode
    (a customer's fraud window was decoded at each of their orders, 2.5 % of
    the worker at half the bench's load). That is only right because every
    write of the partition goes through this object while the partition is
    this worker's (a revoked partition's object is dropped), and the values
    are immutable.
    """

    def __init__(
        self,
        table: TableT[Any, Any],
        partition: int,
        decode: Callable[[Any], Any] = _same,
        *,
        max_clean: int = DEFAULT_MAX_CLEAN_ROWS,
    ) -> None:
        self._table = table
        self.partition = partition
        self._decode = decode
        self._max_clean = max_clean
        self._changes: dict[Any, Any | None] = {}
        #: Rows as stored, decoded (None: no row), the least recently remembered first.
        self._clean: dict[Any, Any | None] = {}

    def get(self, key: Any, default: Any = None) -> Any:
        value = self._changes.get(key, _MISSING)
        if value is _MISSING:
            value = self._clean.get(key, _MISSING)
            if value is _MISSING:
                value = stored_row(self._table, self.partition, key)
                if value is not None:
                    value = self._decode(value)
                self._remember(key, value)
        return default if value is None else value

    def _remember(self, key: Any, value: Any | None) -> None:
        clean = self._clean
        clean.pop(key, None)
        clean[key] = value
        if len(clean) > self._max_clean:
            del clean[next(iter(clean))]

    def put(self, key: Any, value: Any) -> None:
        if value is None:
            raise ValueError("KeyedRows.put: None is a delete, use delete()")
        self._changes[key] = value

    def delete(self, key: Any) -> None:
        self._changes[key] = None

    def __len__(self) -> int:
        return len(self._changes)

    def take_writes(self) -> list[tuple[Any, Any | None]]:
        writes = list(self._changes.items())
        self._changes = {}
        for key, value in writes:  # stored once the caller wrote them
            self._remember(key, value)
        return writes


def keyed_objects_cache(
    table: TableT[Any, Any], decode: Callable[[Any], Any], encode: Callable[[Any], Any]
) -> CommitCache[KeyedRows]:
    """A commit cache of ``table``'s rows as objects: ``decode``d when first read, ``encode``d
    when written (a stand-in table in unit tests)."""
    return CommitCache(
        table, lambda partition: KeyedRows(table, partition, decode=decode), encode=encode
    )
