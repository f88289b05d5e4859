"""``analytics``: every analytics row of a partition, in one changelog-backed table.

The key layout and why it is one table are in :mod:`domain.analytics_rows`.
Keys and values are raw bytes (values: JSON written by :mod:`app.kafka.codec`), so
the RocksDB database of a partition holds exactly what the domain wrote and
can be range-scanned directly.

Range scans are why this module reaches into the store: Faust offers
``items()`` over all active partitions but no ordered scan of one partition.
Reads are confined to :class:`PartitionReader` and :func:`partition_db`.

The agent changes rows in memory, in :data:`analytics_cache` (a
:class:`~tables.commit_cache.CommitCache` of one
:class:`~domain.analytics_batch.BufferedRows` per partition), which writes
each changed row once to the table (so the changelog sees every put
and delete, on the partition of the records being processed) just before
Faust commits, when :data:`CACHE_MAX_ROWS` are held, and when a partition's
expiry horizon moves. Reads, the HTTP queries' too
(:func:`partition_reader`), see the rows held there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from faust.types import TP

from app.kafka.codec import decode_json_object, encode_json
from app.main import app, settings
from domain.analytics_batch import BufferedRows
from domain.analytics_rows import RowReader
from domain.analytics_windows import WindowPolicy
from tables import ownership
from tables.commit_cache import CommitCache
from tables.options import rocksdb_options

__all__ = [
    "CACHE_MAX_ROWS",
    "POLICY",
    "PartitionReader",
    "active_partitions",
    "analytics_cache",
    "analytics_table",
    "partition_reader",
    "stored_rows",
]

#: Grace period and retention of every window (SHOPSTREAM_LATE_GRACE_SECONDS).
POLICY = WindowPolicy(grace_ms=settings.late_grace_seconds * 1000)
#: Changed rows held in memory (all partitions) before they are written early.
CACHE_MAX_ROWS: Final = 20_000

analytics_table = app.Table(
    "analytics",
    default=None,
    key_type=bytes,
    value_type=bytes,  # raw bytes: the values are JSON written by app.kafka.codec
    partitions=settings.partitions,
    options=rocksdb_options(),
    help="Event-time analytics: minute aggregates, sessions, their index and watermarks.",
)


def _scan_db(db: Any, start: bytes, stop: bytes) -> Iterator[tuple[bytes, dict[str, Any]]]:
    for key, value in db.items(from_key=start):
        if key >= stop:
            return
        yield key, decode_json_object(value)


def stored_rows(partition: int) -> RowReader:
    """The rows of a partition as stored (read straight from its database, without the Table).

    The database is looked up at each read: it opens on the first write, which
    may come while a reader made before it is still in use (a batch's rows).
    """
    return _StoredRows(partition)


class _StoredRows:
    """The stored rows of one partition; none while its database is not open."""

    def __init__(self, partition: int) -> None:
        self._partition = partition

    def get(self, key: bytes) -> dict[str, Any] | None:
        db = partition_db(self._partition)
        raw = None if db is None else db.get(key)
        return None if raw is None else decode_json_object(raw)

    def scan(self, start: bytes, stop: bytes) -> Iterator[tuple[bytes, dict[str, Any]]]:
        db = partition_db(self._partition)
        return iter(()) if db is None else _scan_db(db, start, stop)


def _open_rows(partition: int) -> BufferedRows:
    return BufferedRows(stored_rows(partition), partition, POLICY)


#: The rows the analytics agent changed and has not written yet, per partition.
analytics_cache: CommitCache[BufferedRows] = CommitCache(
    analytics_table, _open_rows, max_rows=CACHE_MAX_ROWS, encode=encode_json
)


class PartitionReader:
    """Read-only view of one partition's database (web views; outside the stream loop)."""

    def __init__(self, db: Any) -> None:
        self._db = db

    def get(self, key: bytes) -> dict[str, Any] | None:
        raw = self._db.get(key)
        return None if raw is None else decode_json_object(raw)

    def scan(self, start: bytes, stop: bytes) -> Iterator[tuple[bytes, dict[str, Any]]]:
        return _scan_db(self._db, start, stop)


def partition_db(partition: int) -> Any | None:
    """The open RocksDB database of one partition, or None when it is not open here."""
    store: Any = analytics_table.data
    dbs = getattr(store, "_dbs", None)
    if dbs is None:
        raise TypeError("the analytics table needs the rocksdb store (range scans)")
    return dbs.get(partition)


def changelog_topic_name() -> str:
    return str(analytics_table.changelog_topic.get_topic_name())


def active_partitions() -> list[int]:
    """Partitions of the analytics table this worker owns as *active* (standby copies excluded)."""
    return ownership.active_partitions(analytics_table)


def partition_reader(partition: int) -> RowReader | None:
    """A reader of an active partition, rows not written yet included; None when it has none."""
    if TP(changelog_topic_name(), partition) not in app.assignor.assigned_actives():
        raise KeyError(f"partition {partition} is not active on this worker")
    pending = analytics_cache.peek(partition)
    if pending is not None:
        return pending
    db = partition_db(partition)
    return None if db is None else PartitionReader(db)
