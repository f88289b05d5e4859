"""Replay generations: how a worker knows its local table stores predate a replay.

Faust keeps each table partition in a local RocksDB database together with the
changelog offset it has applied (``__faust\\0offset__``). When ``shopstream
replay`` deletes the changelogs, a worker that kept its data directory (on this
machine or another one the replay command cannot reach) would otherwise restore
nothing, or fail Faust's consistency check, and serve the old state as if it
were current.

So each replay appends a record to ``{app_id}-replay-generation`` (one
partition, compacted) *before* it clears anything, and every worker, before
Faust opens a store, compares the latest generation with the marker file
``replay-generation`` in its data directory. Stores of another (older)
generation, or of unknown generation, are wiped; the worker then restores from
the (new) changelogs like a fresh one and writes the current generation into
its marker. Wiping is always safe: it only costs a restore.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from app.kafka import topic_names
from app.kafka.admin import ensure_topics

__all__ = [
    "MARKER_NAME",
    "DatadirVerdict",
    "ensure_generation_topic",
    "judge_datadir",
    "prepare_datadir",
    "read_generation",
    "sync_datadir",
    "table_store_dirs",
    "write_generation",
]

logger = logging.getLogger(__name__)

MARKER_NAME = "replay-generation"
_KEY = b"generation"


@dataclass(frozen=True, slots=True)
class DatadirVerdict:
    """What a starting worker does with its data directory."""

    wipe: bool
    #: The marker to leave behind (None: no marker, no replay has happened).
    marker: str | None
    reason: str


def judge_datadir(
    marker: str | None, generation: int | None, *, has_stores: bool
) -> DatadirVerdict:
    """Keep the local stores only when they provably belong to the current generation.

    ``marker`` is the datadir's marker (None when absent), ``generation`` the
    latest replay generation on the broker (None when no replay ever ran).
    """
    current = None if generation is None else str(generation)
    if marker == current or not has_stores:
        return DatadirVerdict(False, current, "stores are current")
    if marker is None:
        reason = f"stores of unknown generation, replay generation is {current}"
    elif current is None:
        reason = f"stores of generation {marker}, but the broker has no replay generation"
    else:
        reason = f"stores of generation {marker}, replay generation is {current}"
    return DatadirVerdict(True, current, reason)


def table_store_dirs(datadir: Path) -> list[Path]:
    """Faust's table directories below ``datadir`` (``v{version}/tables``)."""
    return sorted(p for p in datadir.glob("v*/tables") if p.is_dir())


def sync_datadir(datadir: Path, generation: int | None) -> DatadirVerdict:
    """Wipe stale table stores of ``datadir`` and write the current marker."""
    marker_path = datadir / MARKER_NAME
    marker = marker_path.read_text().strip() if marker_path.is_file() else None
    stores = table_store_dirs(datadir)
    verdict = judge_datadir(marker, generation, has_stores=bool(stores))
    if verdict.wipe:
        for directory in stores:
            shutil.rmtree(directory)
    if verdict.marker is None:
        marker_path.unlink(missing_ok=True)
    else:
        datadir.mkdir(parents=True, exist_ok=True)
        temporary = marker_path.with_suffix(".tmp")
        temporary.write_text(verdict.marker + "\n")
        temporary.replace(marker_path)
    return verdict


async def ensure_generation_topic(
    admin: AIOKafkaAdminClient, app_id: str, replication: int
) -> None:
    """Create the generation topic (one partition, compacted) if it is missing."""
    await ensure_topics(
        admin,
        [topic_names.replay_generation(app_id)],
        partitions=1,
        replication=replication,
        configs={"cleanup.policy": "compact"},
    )


async def read_generation(bootstrap: str, app_id: str) -> dict[str, Any] | None:
    """The latest generation record (``{"generation": n, ...}``), or None if none was written."""
    tp = TopicPartition(topic_names.replay_generation(app_id), 0)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        # An explicit seek: seek_to_beginning() right after assign() can lose
        # to the assignment's own offset reset and leave the position at the end.
        consumer.seek(tp, (await consumer.beginning_offsets([tp]))[tp])
        latest: dict[str, Any] | None = None
        while await consumer.position(tp) < end:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            for message in batch.get(tp, ()):
                if message.offset < end and message.value is not None:
                    latest = orjson.loads(message.value)
        return latest
    finally:
        await consumer.stop()


async def write_generation(bootstrap: str, app_id: str, record: dict[str, Any]) -> None:
    """Append a generation record, acknowledged by all in-sync replicas."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic_names.replay_generation(app_id), orjson.dumps(record), key=_KEY, partition=0
        )
    finally:
        await producer.stop()


async def prepare_datadir(
    bootstrap: str, app_id: str, datadir: Path, replication: int
) -> DatadirVerdict:
    """Worker start-up step: make sure the generation topic exists, then sync the datadir."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await ensure_generation_topic(admin, app_id, replication)
    finally:
        await admin.close()
    latest = await read_generation(bootstrap, app_id)
    verdict = sync_datadir(datadir, None if latest is None else int(latest["generation"]))
    if verdict.wipe:
        logger.warning("wiped the local table stores of %s: %s", datadir, verdict.reason)
    return verdict
