"""``shopstream dlq list | show | requeue``: inspect dead letters and re-drive them.

Reads ``dead-letters`` from the beginning to its current end with a plain
aiokafka consumer (no consumer group: inspecting changes nothing). ``requeue``
sends the original key and bytes back to the original topic; processing is
idempotent by ``event_id``, so re-driving a letter twice is harmless.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from app.kafka import topic_names

__all__ = ["StoredLetter", "read_dead_letters", "requeue_letters", "select_letters"]


@dataclass(frozen=True, slots=True)
class StoredLetter:
    """One record of ``dead-letters`` with its own coordinates in that topic."""

    partition: int
    offset: int
    record: dict[str, Any]

    @property
    def letter_id(self) -> str:
        """``partition:offset`` in ``dead-letters``: how the CLI names a letter."""
        return f"{self.partition}:{self.offset}"

    def original_value(self) -> bytes | None:
        encoded = self.record.get("value_b64")
        return None if encoded is None else base64.b64decode(encoded)

    def describe(self) -> str:
        value = self.original_value()
        try:
            shown = json.dumps(orjson.loads(value), indent=2) if value is not None else "null"
        except orjson.JSONDecodeError:
            shown = repr(value)
        fields = "\n".join(f"  {k}: {v}" for k, v in self.record.items() if k != "value_b64")
        return f"dead letter {self.letter_id}\n{fields}\n  value:\n{shown}"


async def _partitions_of(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if topic not in await admin.list_topics():
            return []
        described = await admin.describe_topics([topic])
        return sorted(p["partition"] for p in described[0]["partitions"])
    finally:
        await admin.close()


async def read_dead_letters(
    bootstrap: str, *, topic: str = topic_names.DEAD_LETTERS
) -> list[StoredLetter]:
    """Every dead letter currently in the topic, oldest first per partition."""
    partitions = await _partitions_of(bootstrap, topic)
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        # Explicit seeks: aiokafka's lazy seek_to_beginning() can lose to a later
        # offset lookup and leave the position at the end (found by the replay test).
        starts = await consumer.beginning_offsets(tps)
        for tp in tps:
            consumer.seek(tp, starts[tp])
        ends = await consumer.end_offsets(tps)
        letters: list[StoredLetter] = []
        remaining = {tp for tp in tps if ends[tp] > starts[tp]}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, messages in batch.items():
                for message in messages:
                    if message.offset < ends[tp]:
                        letters.append(
                            StoredLetter(tp.partition, message.offset, orjson.loads(message.value))
                        )
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
        return sorted(letters, key=lambda letter: (letter.partition, letter.offset))
    finally:
        await consumer.stop()


def select_letters(
    letters: Iterable[StoredLetter],
    *,
    ids: Iterable[str] = (),
    stage: str | None = None,
    source_topic: str | None = None,
) -> list[StoredLetter]:
    """Filter letters by ``partition:offset`` ids, stage and source topic (all optional)."""
    wanted = set(ids)
    return [
        letter
        for letter in letters
        if (not wanted or letter.letter_id in wanted)
        and (stage is None or letter.record.get("stage") == stage)
        and (source_topic is None or letter.record.get("source_topic") == source_topic)
    ]


async def requeue_letters(bootstrap: str, letters: Iterable[StoredLetter]) -> int:
    """Send each letter's original key and bytes back to its source topic."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    sent = 0
    try:
        for letter in letters:
            key = letter.record.get("key")
            await producer.send_and_wait(
                letter.record["source_topic"],
                letter.original_value(),
                key=None if key is None else str(key).encode(),
            )
            sent += 1
    finally:
        await producer.stop()
    return sent
