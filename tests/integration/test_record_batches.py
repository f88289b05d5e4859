"""Whole record batches on a real broker: bulk table writes and output batches.

:mod:`app.faust_patches.bulk_table_writes` on RocksDB:

Given a Faust table on RocksDB and a started producer, when a partition's rows
are written in bulk, then the store holds them (a delete removes the key;
``read_partition`` reads them back from that partition only),
the changelog partition holds the same key and value bytes in the same order
(a delete is a tombstone), nothing goes to another partition, the commit's
flush waits for them, and the persisted changelog offset (where recovery
starts) is the last record's; a batch larger than one record batch is split
and still arrives whole and in order.

:mod:`app.faust_patches.record_batches` (the order pipeline's outputs): each
keyed record lands on the partition ``send`` would choose (the Java client's
murmur2), in the order it was added.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import faust
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import TopicPartition
from faust.types import TP

from app.faust_patches.bulk_table_writes import read_partition, write_partition
from app.faust_patches.record_batches import MAX_BATCH_BYTES, OutputBatches
from app.main import app as _shopstream_app  # noqa: F401  # installs the Faust patches
from tests.support.kafka_io import end_offsets

PARTITIONS = 2


@pytest.fixture
async def table(kafka_bootstrap: str, tmp_path: Path, unique: str) -> AsyncIterator[Any]:
    """A two-partition RocksDB table of a fresh App whose producer runs on the session broker."""
    app = faust.App(
        f"bulk-{unique}",
        broker=f"kafka://{kafka_bootstrap}",
        store="rocksdb://",
        datadir=str(tmp_path),
        producer_acks=-1,
    )
    rows = app.Table("rows", key_type=bytes, value_type=None, partitions=PARTITIONS)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(rows.changelog_topic.get_topic_name(), PARTITIONS, 1)])
    finally:
        await admin.close()
    await app.producer.start()
    try:
        yield rows
    finally:
        await app.producer.stop()
        await rows.data.stop()  # type: ignore[attr-defined]  # a Store: closes its databases


async def _records(bootstrap: str, topic: str, partition: int) -> list[Any]:
    """Every record of one partition, up to its end offset now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    tp = TopicPartition(topic, partition)
    consumer.assign([tp])
    await consumer.seek_to_beginning(tp)
    end = (await consumer.end_offsets([tp]))[tp]
    records: list[Any] = []
    deadline = time.monotonic() + 30
    try:
        while (await consumer.position(tp)) < end and time.monotonic() < deadline:
            batch = await consumer.getmany(tp, timeout_ms=500)
            records.extend(batch.get(tp, []))
    finally:
        await consumer.stop()
    return records


async def test_rows_reach_the_store_and_the_changelog_in_order(
    table: Any, kafka_bootstrap: str
) -> None:
    topic = table.changelog_topic.get_topic_name()
    first = [(f"k{n}", {"n": n}) for n in range(5)]
    assert write_partition(table, 1, first)
    second = [("k1", None), ("k2", {"n": 22})]
    assert write_partition(table, 1, second)
    await table.app.producer.flush()  # the commit's flush waits for the batches (ledger)

    db = table.data._db_for_partition(1)
    assert db.get(b"k0") == b'{"n":0}' and db.get(b"k2") == b'{"n":22}'
    assert db.get(b"k1") is None
    assert read_partition(table, 1, "k2") == {"n": 22}
    assert read_partition(table, 1, "k1") is None
    assert read_partition(table, 0, "k2") is None  # another partition's database
    records = await _records(kafka_bootstrap, topic, 1)
    assert [(r.key, r.value) for r in records] == [
        *((f"k{n}".encode(), f'{{"n":{n}}}'.encode()) for n in range(5)),
        (b"k1", None),
        (b"k2", b'{"n":22}'),
    ]
    assert (await end_offsets(kafka_bootstrap, topic))[0] == 0  # nothing on the other partition
    assert table.data.persisted_offset(TP(topic, 1)) == records[-1].offset


async def test_more_than_one_record_batch_arrives_whole_and_in_order(
    table: Any, kafka_bootstrap: str
) -> None:
    topic = table.changelog_topic.get_topic_name()
    filler = "x" * 4000
    rows = [(f"big{n:04}", {"n": n, "filler": filler}) for n in range(300)]
    assert len(rows) * len(filler) > 2 * MAX_BATCH_BYTES  # three record batches at least
    assert write_partition(table, 0, rows)
    await table.app.producer.flush()

    records = await _records(kafka_bootstrap, topic, 0)
    assert [r.key for r in records] == [key.encode() for key, _ in rows]
    assert table.data.persisted_offset(TP(topic, 0)) == records[-1].offset


async def test_outputs_land_where_send_would_put_them_in_order(
    table: Any, kafka_bootstrap: str, unique: str
) -> None:
    topic = f"outputs-{unique}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 4, 1)])
    finally:
        await admin.close()
    outputs = OutputBatches(table.app.producer)
    keys = [f"order-{n % 13}".encode() for n in range(60)]
    for n, key in enumerate(keys):
        await outputs.add(topic, key, str(n).encode())
    for future in outputs.submit():
        await future

    for partition in range(4):
        records = await _records(kafka_bootstrap, topic, partition)
        expected = [
            str(n).encode()
            for n, key in enumerate(keys)
            if DefaultPartitioner()(key, [0, 1, 2, 3], [0, 1, 2, 3]) == partition
        ]
        assert [r.value for r in records] == expected, partition


def test_a_store_other_than_rocksdb_is_left_to_the_table() -> None:
    memory_app = faust.App("bulk-memory", store="memory://")
    rows = memory_app.Table("rows", key_type=bytes, value_type=None, partitions=1)
    assert write_partition(rows, 0, [("k", {"n": 1})]) is False
