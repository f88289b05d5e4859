"""Broker failure: one of three brokers is SIGKILLed under load; no acknowledged event is lost.

Given a three-node KRaft cluster (replication factor 3, ``min.insync.replicas=2``)
and a worker started with ``SHOPSTREAM_REPLICATION_FACTOR=3``, so that every
topic, Faust's changelogs, repartition and assignor topics and
``__consumer_offsets`` included, has three replicas (checked), and producers
with ``acks=all`` and idempotence that record which sends were acknowledged,
when a broker is killed with SIGKILL under load (the leader of ``orders``
partition 0; the full version then also kills the group's coordinator) and
restarted a few seconds later, then

* every acknowledged record is applied: the worker's answers and output
  topics equal the replay oracle's fold of exactly the acknowledged records;
* the pipeline goes on: ``order-status`` records are produced while the
  broker is down;
* the pause is measured: the longest gap between ``order-status`` records
  (broker timestamps) and between producer acknowledgements, around each
  kill, recorded in ``test-artifacts/fault-figures.jsonl``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from localservices.kafka import LocalKafkaCluster
from tests.conftest import BrokerAddress
from tests.support.fault_load import judge, produce_acked, record_figure, workload
from tests.support.oracle_checks import WORKER_ENV, check_all
from tests.support.worker_process import WorkerProcess


@dataclass(frozen=True, slots=True)
class Outage:
    """One run: which brokers to kill in turn, for how long, at which load rate."""

    victims: tuple[str, ...]
    down_seconds: float
    rate: float
    seed: int


OUTAGES = [
    pytest.param(Outage(("orders-0-leader",), 6.0, 40.0, 7501), id="short"),
    pytest.param(
        Outage(("orders-0-leader", "group-coordinator"), 15.0, 80.0, 7502),
        id="full",
        marks=pytest.mark.slow,
    ),
]


@pytest.fixture
def cluster() -> Iterator[LocalKafkaCluster]:
    with LocalKafkaCluster(3, partitions=4) as three:
        yield three


@pytest.fixture
def kafka_broker(cluster: LocalKafkaCluster) -> BrokerAddress:
    return BrokerAddress(url=cluster.url, bootstrap=cluster.bootstrap_servers)


async def replication(bootstrap: str) -> dict[str, tuple[set[int], str]]:
    """Per topic: the replica counts of its partitions and its ``min.insync.replicas``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = await admin.list_topics()
        described = await admin.describe_topics(names)
        configs = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        )
    finally:
        await admin.close()
    min_isr: dict[str, str] = {}
    for response in configs:
        for _code, _message, _type, name, entries, *_ in response.resources:
            min_isr[name] = next((e[1] for e in entries if e[0] == "min.insync.replicas"), "?")
    return {
        t["topic"]: ({len(p["replicas"]) for p in t["partitions"]}, min_isr.get(t["topic"], "?"))
        for t in described
    }


async def victim_node(bootstrap: str, victim: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if victim == "group-coordinator":
            return int(await admin.find_coordinator(group))
        (orders,) = await admin.describe_topics(["orders"])
        return int(next(p["leader"] for p in orders["partitions"] if p["partition"] == 0))
    finally:
        await admin.close()


async def order_status_times(bootstrap: str) -> list[float]:
    """Broker timestamps (epoch seconds) of every ``order-status`` record so far, sorted."""
    consumer = AIOKafkaConsumer(
        "order-status", bootstrap_servers=bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    times: list[float] = []
    try:
        partitions = consumer.assignment() or set()
        while not partitions:
            await consumer.getmany(timeout_ms=200)
            partitions = consumer.assignment()
        ends = await consumer.end_offsets(list(partitions))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            positions = [await consumer.position(tp) for tp in ends]
            if all(at >= end for at, end in zip(positions, ends.values(), strict=True)):
                break
            batch = await consumer.getmany(timeout_ms=500)
            times.extend(m.timestamp / 1000 for ms in batch.values() for m in ms)
    finally:
        await consumer.stop()
    return sorted(times)


async def status_after(bootstrap: str, since_wall: float, *, timeout: float) -> None:
    """Wait until ``order-status`` holds a record stamped after ``since_wall``, or time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(t > since_wall for t in await order_status_times(bootstrap)):
            return
        await asyncio.sleep(1.0)


def max_gap(times: list[float], since: float, until: float) -> float:
    inside = [t for t in times if since <= t <= until]
    return max((b - a for a, b in pairwise(inside)), default=until - since)


@pytest.mark.parametrize("outage", OUTAGES)
async def test_no_acknowledged_event_is_lost_when_a_broker_dies(
    start_worker: Callable[..., WorkerProcess],
    cluster: LocalKafkaCluster,
    kafka_broker: BrokerAddress,
    tmp_path: Path,
    unique: str,
    outage: Outage,
) -> None:
    bootstrap = kafka_broker.bootstrap
    # Given a worker on three brokers, everything replicated three times
    worker = start_worker(**WORKER_ENV, SHOPSTREAM_REPLICATION_FACTOR="3")
    await asyncio.to_thread(worker.wait_ready, 120)
    topics = await replication(bootstrap)
    assert len(topics) >= 12, sorted(topics)
    under = {name: got for name, got in topics.items() if got != ({3}, "2")}
    assert not under, f"topics without 3 replicas and min.insync.replicas=2: {under}"

    # When a broker is SIGKILLed under load and restarted later
    _, events = workload(outage.seed, 40000, outage.rate, bootstrap)
    stop = asyncio.Event()
    load_task = asyncio.create_task(produce_acked(bootstrap, events, rate=outage.rate, stop=stop))
    outages: list[dict[str, Any]] = []
    try:
        await asyncio.sleep(8.0)  # a baseline of undisturbed output first
        for victim in outage.victims:
            node = await victim_node(bootstrap, victim, f"shopstream-test-{unique}")
            killed_wall, killed = time.time(), time.monotonic()
            cluster.kill_node(node)
            await asyncio.sleep(outage.down_seconds)
            # The pipeline must go on while the broker is down. On a busy machine the
            # failover can outlast the planned outage, so the broker stays down until an
            # order-status record came after the kill (or a minute: then the check fails).
            await status_after(bootstrap, killed_wall, timeout=60.0)
            restarted_wall = time.time()
            await asyncio.to_thread(cluster.start_node, node)
            back = time.monotonic() - killed
            await asyncio.sleep(4.0)
            outages.append(
                {
                    "victim": victim,
                    "node": node,
                    "killed": (killed_wall, killed),
                    "restarted_wall": restarted_wall,
                    "restart_seconds": round(back - outage.down_seconds, 1),
                }
            )
        stop.set()
        load = await load_task
    finally:
        stop.set()
        if not load_task.done():
            load_task.cancel()

    # Then every acknowledged record is applied, and the pipeline only paused
    assert not load.failed, f"{len(load.failed)} sends not acknowledged: {load.failed[:3]}"
    judged = judge(load.acked)
    repeats = await check_all(worker, bootstrap, judged.expected, judged.probes, keys=judged.keys)
    status_times = await order_status_times(bootstrap)
    first_kill = outages[0]["killed"][0]
    figures = []
    for item in outages:
        killed_wall, killed = item.pop("killed")
        down_until = item.pop("restarted_wall")
        during = [t for t in status_times if killed_wall < t < down_until]
        assert during, f"no order-status record while broker {item['node']} was down"
        item["order_status_max_gap_seconds"] = round(
            max_gap(status_times, killed_wall - 2.0, down_until + 4.0), 2
        )
        item["ack_max_gap_seconds"] = round(
            load.max_ack_gap(killed - 2.0, killed + outage.down_seconds + 4.0), 2
        )
        figures.append(item)
    before = [t for t in status_times if t < first_kill]
    baseline = max_gap(before, before[0], first_kill) if len(before) > 1 else None
    record_figure(
        "broker_failure",
        brokers=3,
        down_seconds=outage.down_seconds,
        rate=outage.rate,
        acked=len(load.acked),
        orders=len(judged.expected.orders),
        outages=figures,
        order_status_max_gap_before_seconds=None if baseline is None else round(baseline, 2),
        **repeats,
    )
