"""``shopstream dlq list | show | requeue``: inspect dead letters and re-drive them.

Reads ``dead-letters`` from the beginning to its current end with a plain
aiokafka consumer (no consumer group: inspecting changes nothing). ``requeue``
sends the original key and bytes back to the original topic; processing is
idempotent by ``event_id``, so re-driving a letter twice is harmless.

A letter carries the original whole unless it was too large
(``value_truncated``, ``key_truncated``: :mod:`app.kafka.dead_letters`); then
``show`` and ``requeue`` fetch the original record from ``source_topic`` at
``partition``/``offset`` (:func:`fetch_originals`), check it against
``value_sha256``, and say so plainly when retention (or compaction) has
deleted it: such a letter is not requeued.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from app.kafka import topic_names
from app.kafka.codec import decode_json_object

__all__ = [
    "Original",
    "Requeued",
    "StoredLetter",
    "fetch_originals",
    "read_dead_letters",
    "requeue_letters",
    "select_letters",
]

#: How long fetching one original from its source may take.
FETCH_SECONDS: Final = 30.0
#: How much of a value that is not JSON ``show`` prints.
SHOWN_BYTES: Final = 4096


@dataclass(frozen=True, slots=True)
class Original:
    """The record a letter stands for: its key and value bytes, or why they cannot be had."""

    key: bytes | None = None
    value: bytes | None = None
    #: Set when the original is not available (deleted by retention, ...): the reason.
    gone: str | None = None
    #: Where the bytes came from: the letter itself, or the source topic.
    source: str = "the letter"


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

    #: The letter's own Kafka key: the original key, byte for byte (cut when ``key_truncated``).
    kafka_key: bytes | None = None

    def original_value(self) -> bytes | None:
        """The value bytes the letter carries (a prefix when ``value_truncated``)."""
        encoded = self.record.get("value_b64")
        return None if encoded is None else base64.b64decode(encoded)

    @property
    def is_whole(self) -> bool:
        """Whether the letter carries the original key and value whole."""
        return not self.record.get("value_truncated") and not self.record.get("key_truncated")

    @property
    def source(self) -> tuple[str, int, int]:
        """``(source_topic, partition, offset)`` of the original record."""
        record = self.record
        return str(record["source_topic"]), int(record["partition"]), int(record["offset"])

    def describe(self, original: Original | None = None) -> str:
        """Every field, then the original value (``original``: as fetched from its source)."""
        original = original or Original(self.kafka_key, self.original_value())
        fields = "\n".join(f"  {k}: {v}" for k, v in self.record.items() if k != "value_b64")
        if original.gone is not None:
            carried = self.original_value() or b""
            head = f"  original: GONE, {original.gone}\n  value (the first {len(carried)} bytes):"
            return f"dead letter {self.letter_id}\n{fields}\n{head}\n{_shown(carried)}"
        return (
            f"dead letter {self.letter_id}\n{fields}\n"
            f"  value (from {original.source}):\n{_shown(original.value)}"
        )


def _shown(value: bytes | None) -> str:
    if value is None:
        return "null"
    try:
        return json.dumps(orjson.loads(value), indent=2)
    except orjson.JSONDecodeError:
        more = f" ... ({len(value)} bytes in all)" if len(value) > SHOWN_BYTES else ""
        return repr(value[:SHOWN_BYTES]) + more


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
                        # framed when the worker writes SHOPSTREAM_OUTPUT_FORMAT=confluent-json
                        record = decode_json_object(message.value)
                        letters.append(
                            StoredLetter(tp.partition, message.offset, record, message.key)
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


async def _fetch_one(consumer: AIOKafkaConsumer, letter: StoredLetter) -> Original:
    topic, partition, offset = letter.source
    where = f"{topic}[{partition}]@{offset}"
    if offset < 0:
        return Original(gone=f"{where}: the letter stands for an event that waited in state")
    tp = TopicPartition(topic, partition)
    consumer.assign([tp])
    start = (await consumer.beginning_offsets([tp]))[tp]
    end = (await consumer.end_offsets([tp]))[tp]
    if offset < start:
        return Original(gone=f"{where} was deleted by retention (the log now starts at {start})")
    if offset >= end:
        return Original(
            gone=f"{where} is beyond the end of the log ({end}): was the topic re-created?"
        )
    consumer.seek(tp, offset)
    deadline = time.monotonic() + FETCH_SECONDS
    messages: list[Any] = []
    while not messages:
        if time.monotonic() > deadline:
            return Original(gone=f"{where} could not be read within {FETCH_SECONDS:g} s")
        messages = (await consumer.getmany(tp, timeout_ms=1000)).get(tp, [])
    found = messages[0]
    if found.offset != offset:
        return Original(
            gone=f"{where} was deleted by compaction (the next record is @{found.offset})"
        )
    wanted = letter.record.get("value_sha256")
    if wanted is not None and (
        found.value is None or hashlib.sha256(found.value).hexdigest() != wanted
    ):
        return Original(gone=f"the record at {where} is not the dead-lettered one (sha256 differs)")
    return Original(found.key, found.value, source=where)


async def fetch_originals(bootstrap: str, letters: Iterable[StoredLetter]) -> dict[str, Original]:
    """Each letter's original (by letter id): its own bytes when whole, else fetched by offset."""
    originals: dict[str, Original] = {}
    consumer: AIOKafkaConsumer | None = None
    try:
        for letter in letters:
            if letter.is_whole:
                originals[letter.letter_id] = Original(letter.kafka_key, letter.original_value())
                continue
            if consumer is None:
                consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
                await consumer.start()
            originals[letter.letter_id] = await _fetch_one(consumer, letter)
    finally:
        if consumer is not None:
            await consumer.stop()
    return originals


@dataclass(frozen=True, slots=True)
class Requeued:
    """What ``requeue`` did: how many originals went back, and which letters it could not re-drive."""

    sent: int
    gone: Mapping[str, str]


async def requeue_letters(bootstrap: str, letters: Iterable[StoredLetter]) -> Requeued:
    """Send each letter's original key and bytes back to its source topic.

    A letter whose original is gone (see :func:`fetch_originals`) is not sent:
    it is in ``gone`` with the reason.
    """
    chosen = list(letters)
    originals = await fetch_originals(bootstrap, chosen)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        max_request_size=2 * 1_048_576,  # the broker judges what its input topics take
    )
    await producer.start()
    sent = 0
    gone: dict[str, str] = {}
    try:
        for letter in chosen:
            original = originals[letter.letter_id]
            if original.gone is not None:
                gone[letter.letter_id] = original.gone
                continue
            await producer.send_and_wait(letter.source[0], original.value, key=original.key)
            sent += 1
    finally:
        await producer.stop()
    return Requeued(sent, gone)
