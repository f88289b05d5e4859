"""Plain aiokafka helpers for tests: produce contract events, read topics back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

__all__ = ["end_offsets", "eventually", "produce", "read_topic"]


async def produce(bootstrap: str, records: Iterable[tuple[str, str | None, Any]]) -> None:
    """Produce (topic, key, value) records; a dict value is JSON-encoded, bytes go as is."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        futures = []
        for topic, key, value in records:
            raw = value if isinstance(value, bytes) else orjson.dumps(value)
            futures.append(
                await producer.send(topic, raw, key=None if key is None else key.encode())
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


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
                    key = None if message.key is None else message.key.decode()
                    if key_prefix is not None and (key is None or not key.startswith(key_prefix)):
                        continue
                    records.append({"key": key, "value": orjson.loads(message.value)})
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
