"""``analytics``: every analytics row of a partition, in one changelog-backed table.

The key layout and why it is one table are in :mod:`domain.analytics_rows`.
Keys and values are raw bytes (values: JSON written by :mod:`app.codec`), so
the RocksDB database of a partition holds exactly what the domain wrote and
can be range-scanned directly.

Range scans are why this module reaches into the store: Faust offers
``items()`` over all active partitions but no ordered scan of one partition.
Reads are confined to :class:`PartitionReader` and :func:`partition_db`; the
writes of the agent go through the Table (:class:`TableRows`) so the
changelog sees every put and delete, on the partition of the record being
processed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from faust.types import TP

from app.codec import decode_json_object, encode_json
from app.main import app, settings
from tables.options import rocksdb_options

__all__ = [
    "PartitionReader",
    "TableRows",
    "active_partitions",
    "analytics_table",
    "partition_reader",
]

analytics_table = app.Table(
    "analytics",
    default=None,
    key_type=bytes,
    value_type=bytes,  # raw bytes: the values are JSON written by app.codec
    partitions=settings.partitions,
    options=rocksdb_options(),
    help="Event-time analytics: minute aggregates, sessions, their index and watermarks.",
)


def _scan_db(db: Any, start: bytes, stop: bytes) -> Iterator[tuple[bytes, dict[str, Any]]]:
    for key, value in db.items(from_key=start):
        if key >= stop:
            return
        yield key, decode_json_object(value)


class TableRows:
    """The agent's view of one partition: reads and writes through the Table.

    Only valid inside the stream loop, while a record of ``partition`` is being
    processed (Faust writes each change to that record's partition).
    """

    def __init__(self, partition: int) -> None:
        self.partition = partition

    def get(self, key: bytes) -> dict[str, Any] | None:
        raw = analytics_table.get(key)
        return None if raw is None else decode_json_object(raw)

    def put(self, key: bytes, value: dict[str, Any]) -> None:
        analytics_table[key] = encode_json(value)

    def delete(self, key: bytes) -> None:
        del analytics_table[key]

    def scan(self, start: bytes, stop: bytes) -> Iterator[tuple[bytes, dict[str, Any]]]:
        db = partition_db(self.partition)
        if db is None:
            return iter(())
        # RocksDB iterators read a snapshot, so deleting scanned keys is safe.
        return _scan_db(db, start, stop)


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
    """Partitions of the table this worker owns as *active* (standby copies excluded)."""
    topic = changelog_topic_name()
    return sorted(tp.partition for tp in app.assignor.assigned_actives() if tp.topic == topic)


def partition_reader(partition: int) -> PartitionReader | None:
    """A reader of an active partition; None when its database is not open (no rows yet)."""
    if TP(changelog_topic_name(), partition) not in app.assignor.assigned_actives():
        raise KeyError(f"partition {partition} is not active on this worker")
    db = partition_db(partition)
    return None if db is None else PartitionReader(db)
