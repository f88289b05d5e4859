"""Speed-up: a table partition's changed rows written in one go, not one Faust write per row.

``table[key] = value`` in faust-streaming 0.15.3 costs some 60 µs of Python
per row: the changelog message becomes a ``FutureMessage`` in the producer
buffer, is handed to aiokafka by the buffer's task through ``Topic.publish_message``
(sensors, a callback), and its acknowledgement writes the changelog offset
to RocksDB, again per row; the store write looks the partition up from the
current event. The order backlog writes about five table rows per order, so
that path was a fifth of the worker's main thread (py-spy, issue 11).

:func:`write_partition` does what those writes amount to, once per call:

1. the rows go to the partition's RocksDB database in one ``WriteBatch``
   (atomic: a crash keeps all of them or none);
2. the changelog records go to the table's changelog partition in whole
   record batches (:mod:`~app.faust_patches.record_batches`: synchronous, so
   the commit-cache sensor, which Faust calls synchronously before it picks
   the offsets, can use it too). Each batch's future is in the producer's
   send ledger (:mod:`~app.faust_patches.producer_flush`), so the next commit
   waits for it and refuses to pass a failure; a failure also stops the
   worker at once (:mod:`~app.faust_patches.fatal_stop`);
3. when a batch is acknowledged, the partition's persisted changelog offset
   (what recovery starts from) is set once, to its last record.

Same bytes as Faust's own path (the store's key and value codecs), same
partition (the caller's: the partition of the records that changed the
rows), same order within the partition (aiokafka keeps one in-flight batch
per partition and sends a partition's batches in the order they were added).
Recovery and standbys read these records like any other changelog record.

:func:`read_partition` is the matching read of one row of a known partition.

Used for RocksDB stores only (:func:`write_partition` returns False for
others, e.g. the in-memory store of unit tests: the caller then writes
through the Table). Checked against faust-streaming 0.15.3 and aiokafka
0.14.0 (the package's version guard): it reads ``Store._dbs`` and
``Store._key_index``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import partial
from typing import Any

import rocksdict
from aiokafka.structs import TopicPartition
from faust.stores.rocksdb import Store as RocksDBStore
from faust.types import TP, TableT

from app.faust_patches import fatal_stop
from app.faust_patches.record_batches import PartitionBatches

__all__ = ["NOT_READ", "await_answer", "read_partition", "write_partition"]

Row = tuple[Any, Any | None]  # (key, value); a None value deletes the key


def write_partition(table: TableT[Any, Any], partition: int, rows: Sequence[Row]) -> bool:
    """Write ``rows`` to ``table``'s partition ``partition``: store, then changelog.

    Returns False, having written nothing, when the table's store is not a
    rocksdict RocksDB store (write through the Table instead).
    """
    store = getattr(table, "data", None)  # stand-in tables of unit tests have none
    if not isinstance(store, RocksDBStore) or not store.use_rocksdict:
        return False
    if not rows:
        return True
    encoded = [
        (
            key if type(key) is bytes else _key_bytes(store, key),
            value if value is None or type(value) is bytes else _value_bytes(store, value),
        )
        for key, value in rows
    ]
    _write_store(store, partition, encoded)
    _send_changelog(table, store, partition, encoded)
    return True


def _key_bytes(store: RocksDBStore, key: Any) -> bytes:
    """Faust's key encoding, whose result for ``bytes`` is the key itself (skipped: it is slow)."""
    return key if type(key) is bytes else store._encode_key(key)


def _value_bytes(store: RocksDBStore, value: Any) -> bytes | None:
    """Faust's value encoding (``bytes`` pass through unchanged there too); None deletes."""
    if value is None or type(value) is bytes:
        return value
    return store._encode_value(value)


#: :func:`read_partition`'s answer for a store it cannot read (read through the Table).
NOT_READ: Any = object()


def read_partition(table: TableT[Any, Any], partition: int, key: Any) -> Any:
    """The value of ``key`` in ``table``'s partition ``partition`` (None: no row), or NOT_READ.

    One RocksDB lookup in the partition's database. ``table.get(key)`` costs
    up to two per key of a batch agent (``__contains__``, then the read), each
    in every partition's database while the key is not in the store's key
    index (a new key; Faust knows no current event outside ``async for event
    in stream``). The table's ``on_key_get`` (the monitor's count) is called
    as Faust would. NOT_READ when the store is not a rocksdict RocksDB store.
    """
    store = getattr(table, "data", None)  # stand-in tables of unit tests have none
    if not isinstance(store, RocksDBStore) or not store.use_rocksdict:
        return NOT_READ
    table.on_key_get(key)
    value = store._db_for_partition(partition).get(_key_bytes(store, key))
    return None if value is None else store._decode_value(value)


def _write_store(
    store: RocksDBStore, partition: int, rows: list[tuple[bytes, bytes | None]]
) -> None:
    """One ``WriteBatch``; the keys put go into the store's key index in one update.

    The index (an LRU cache with a lock, key -> partition) only spares a read
    the search through every partition's database; one ``update`` takes its
    lock once, not once per row. Deleted keys stay in it, as after Faust's own
    delete (``Store._del``): an entry names the partition the key was written
    from, which a read then finds empty.
    """
    db = store._db_for_partition(partition)
    batch = rocksdict.WriteBatch(raw_mode=True)
    put = batch.put
    delete = batch.delete
    written: dict[bytes, int] = {}
    for key, value in rows:
        if value is None:
            delete(key)
        else:
            put(key, value)
            written[key] = partition
    db.write(batch)
    store._key_index.update(written)


def _send_changelog(
    table: TableT[Any, Any],
    store: RocksDBStore,
    partition: int,
    rows: list[tuple[bytes, bytes | None]],
) -> None:
    producer = table.app.producer
    tp = TopicPartition(table.changelog_topic.get_topic_name(), partition)
    batches = PartitionBatches(producer, tp)
    for key, value in rows:
        batches.append(key, value)
    for future, last in batches.submit():  # each already in the producer's send ledger
        await_answer(future, store=store, tp=tp, last=last)


def await_answer(future: asyncio.Future[Any], *, store: Any, tp: TopicPartition, last: int) -> None:
    """Act on the broker's answer to a changelog batch whose last record is ``last``."""
    future.add_done_callback(partial(_settled, store=store, tp=tp, last=last))


def _settled(future: asyncio.Future[Any], *, store: Any, tp: TopicPartition, last: int) -> None:
    """A batch was answered: record its last offset, or stop the worker if it was refused."""
    if future.cancelled():
        return
    exc = future.exception()
    if exc is not None:
        fatal_stop.stop_worker(
            f"changelog batch to {tp.topic}[{tp.partition}] failed: {exc!r}", exc
        )
        return
    metadata = future.result()
    if metadata is not None and metadata.offset is not None and metadata.offset >= 0:
        store.set_persisted_offset(TP(tp.topic, tp.partition), metadata.offset + last)
