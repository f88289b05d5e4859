"""``run_simulation`` against a real broker: every record lands, in key order, readable back."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from app.kafka.topic_names import INPUT_TOPICS
from loadgen import SimulationOptions, read_jsonl, run_simulation

pytestmark = pytest.mark.integration

RECORDS = 600


async def _create_topics(bootstrap: str, names: list[str]) -> None:
    """Own topics per test run, so the shared input topics and their data stay untouched."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, num_partitions=3, replication_factor=1) for name in names]
        )
    finally:
        await admin.close()


async def test_run_simulation_produces_every_record(kafka_bootstrap: str, tmp_path: Path) -> None:
    prefix = f"loadgen-{uuid.uuid4().hex[:8]}-"
    topics = [prefix + topic for topic in INPUT_TOPICS]
    await _create_topics(kafka_bootstrap, topics)
    options = SimulationOptions(
        count=RECORDS,
        rate=0,
        seed=11,
        start_time=datetime(2026, 11, 21, 10, tzinfo=UTC),
        brokers=f"kafka://{kafka_bootstrap}",
        topic_prefix=prefix,
        jsonl_path=tmp_path / "sent.jsonl",
        fraction_duplicates=0.05,
        fraction_malformed=0.05,
        fraction_out_of_order=0.1,
    )
    report = await run_simulation(options)
    assert report.total == RECORDS
    sent = list(read_jsonl(tmp_path / "sent.jsonl"))
    assert len(sent) == RECORDS

    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    received: list[tuple[str, str, bytes]] = []
    try:
        async with asyncio.timeout(60):
            while len(received) < RECORDS:
                batches = await consumer.getmany(timeout_ms=1000)
                for records in batches.values():
                    received.extend(
                        (r.topic.removeprefix(prefix), (r.key or b"").decode(), r.value or b"")
                        for r in records
                    )
    finally:
        await consumer.stop()

    expected = [(e.topic, e.key, e.value) for e in sent]
    assert Counter(received) == Counter(expected)
    # one key lives on one partition, and the idempotent producer keeps its order
    per_key_sent: dict[tuple[str, str], list[bytes]] = defaultdict(list)
    per_key_received: dict[tuple[str, str], list[bytes]] = defaultdict(list)
    for topic, key, value in expected:
        per_key_sent[topic, key].append(value)
    for topic, key, value in received:
        per_key_received[topic, key].append(value)
    assert per_key_received == per_key_sent
