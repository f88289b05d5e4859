"""Plain aiokafka helpers for tests: produce contract events, read topics back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from app.kafka.codec import decode_json_object

__all__ = [
    "Produced",
    "committed_offsets",
    "end_offsets",
    "eventually",
    "produce",
    "produce_raw",
    "read_topic",
    "start_group_at_the_end",
]

#: Where a produced record landed: (topic, partition, offset).
Produced = tuple[str, int, int]


async def produce(bootstrap: str, records: Iterable[tuple[str, str | None, Any]]) -> None:
    """Produce (topic, key, value) records; a dict value is JSON-encoded, bytes go as is."""
    await produce_raw(
        bootstrap,
        (
            (
                topic,
                None if key is None else key.encode(),
                value if isinstance(value, bytes) else orjson.dumps(value),
            )
            for topic, key, value in records
        ),
    )


async def produce_raw(
    bootstrap: str,
    records: Iterable[tuple[str, bytes | None, bytes | None]],
    *,
    max_request_size: int = 1_048_576,
) -> list[Produced]:
    """Produce (topic, key bytes, value bytes or None for a tombstone) records, in order.

    Returns where each landed. ``max_request_size`` is the client's own cap
    (aiokafka's default is below the broker's 1 MiB limit): raise it to let the
    broker be the judge of record sizes.
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        max_request_size=max_request_size,
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for topic, key, value in records]
        landed = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [(meta.topic, meta.partition, meta.offset) for meta in landed]


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 60.0,
    key_prefix: str | None = None,
    start_offsets: Mapping[int, int] | None = None,
) -> list[dict[str, Any]]:
    """Read a topic until ``until(records)`` holds or time is up.

    Each record is ``{"key": str (undecodable bytes replaced), "value": decoded JSON,
    "size": bytes of key and value, "id": "partition:offset", "raw": the value's bytes}``.

    From the beginning, or from ``start_offsets`` (partition -> offset, every
    partition of the topic; see :func:`end_offsets`) to skip what came before.
    """
    subscribed = () if start_offsets is not None else (topic,)
    consumer = AIOKafkaConsumer(
        *subscribed,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    if start_offsets is not None:
        consumer.assign([TopicPartition(topic, p) for p in start_offsets])
        for partition, offset in start_offsets.items():
            consumer.seek(TopicPartition(topic, partition), offset)
    records: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not until(records):
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                for message in messages:
                    key = None if message.key is None else message.key.decode("utf-8", "replace")
                    if key_prefix is not None and (key is None or not key.startswith(key_prefix)):
                        continue
                    records.append(
                        {
                            "key": key,
                            "value": decode_json_object(message.value),
                            "size": len(message.value) + len(message.key or b""),
                            "id": f"{message.partition}:{message.offset}",
                            "raw": message.value,
                        }
                    )
    finally:
        await consumer.stop()
    return records


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """The current end offset of each partition of ``topic`` (a snapshot to read on from)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    tps = [TopicPartition(topic, p["partition"]) for p in described[0]["partitions"]]
    assert tps, f"topic {topic} has no partitions"
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    return {tp.partition: offset for tp, offset in ends.items()}


async def eventually(
    check: Callable[[], Any], *, timeout: float = 60.0, interval: float = 0.3
) -> Any:
    """Poll ``check`` (sync) until it returns a truthy value; fail with its last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await asyncio.to_thread(check)
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout:g}s; last value: {last!r}")


async def start_group_at_the_end(
    bootstrap: str, group: str, topics: Iterable[str], *, partitions: int = 4
) -> None:
    """Commit the current end of ``topics`` for ``group`` (creating missing topics first).

    A worker of that group then reads only what is produced afterwards, not
    everything earlier tests left on the shared input topics.
    """
    topics = sorted(topics)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        missing = set(topics) - set(await admin.list_topics())
        if missing:
            await admin.create_topics([NewTopic(t, partitions, 1) for t in sorted(missing)])
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    tps = [
        TopicPartition(topic["topic"], p["partition"])
        for topic in described
        for p in topic["partitions"]
    ]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.commit(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


async def committed_offsets(bootstrap: str, group: str) -> dict[tuple[str, int], int]:
    """The offsets ``group`` committed: (topic, partition) -> next offset to read."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in committed.items()}
