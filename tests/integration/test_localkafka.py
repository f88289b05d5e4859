"""localkafka against real brokers: produce/consume, a node crash, no leftovers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from localservices.kafka import BrokerExited, LocalKafkaCluster

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def kafka() -> Iterator[LocalKafkaCluster]:
    with LocalKafkaCluster(brokers=1, partitions=2) as cluster:
        yield cluster


@pytest.fixture
def kafka3() -> Iterator[LocalKafkaCluster]:
    with LocalKafkaCluster(brokers=3) as cluster:
        yield cluster


def _java_processes_under(path: Path) -> list[int]:
    """Live (non-zombie) processes whose command line mentions ``path``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(path) in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


async def _partition_state(bootstrap: str, topic: str) -> list[dict[str, object]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(described["partitions"], key=lambda p: p["partition"])


async def test_single_broker_produces_and_consumes(kafka: LocalKafkaCluster) -> None:
    assert kafka.url == f"kafka://127.0.0.1:{kafka.broker_ports[0]}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    await producer.start()
    try:
        for i in range(10):
            await producer.send_and_wait("lk-roundtrip", f"v{i}".encode(), key=f"k{i}".encode())
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        "lk-roundtrip",
        bootstrap_servers=kafka.bootstrap_servers,
        group_id="lk-test",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        seen: set[bytes] = set()
        async with asyncio.timeout(20):
            while len(seen) < 10:
                batch = await consumer.getmany(timeout_ms=500)
                seen.update(m.value for msgs in batch.values() for m in msgs if m.value)
        await consumer.commit()
    finally:
        await consumer.stop()
    assert seen == {f"v{i}".encode() for i in range(10)}
    # auto-created with the cluster's partition count
    assert len(await _partition_state(kafka.bootstrap_servers, "lk-roundtrip")) == 2


async def test_three_brokers_keep_accepting_acks_all_writes_after_a_sigkill(
    kafka3: LocalKafkaCluster,
) -> None:
    assert kafka3.url.count(";") == 2
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka3.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic("lk-rf3", num_partitions=3, replication_factor=3)])
    finally:
        await admin.close()
    deadline = time.monotonic() + 30
    state = await _partition_state(kafka3.bootstrap_servers, "lk-rf3")
    while len(state) < 3 and time.monotonic() < deadline:  # metadata of a new topic propagates
        await asyncio.sleep(0.3)
        state = await _partition_state(kafka3.bootstrap_servers, "lk-rf3")
    assert len(state) == 3
    assert all(len(p["replicas"]) == 3 for p in state)  # type: ignore[arg-type]
    victim = int(state[0]["leader"])  # type: ignore[call-overload]

    kafka3.kill_node(victim)
    assert not kafka3.is_node_running(victim)

    producer = AIOKafkaProducer(
        bootstrap_servers=kafka3.bootstrap_servers, acks="all", request_timeout_ms=15000
    )
    await producer.start()
    try:
        async with asyncio.timeout(30):
            written = await producer.send_and_wait("lk-rf3", b"after-crash", partition=0)
    finally:
        await producer.stop()
    assert written.offset >= 0

    kafka3.start_node(victim)
    assert kafka3.is_node_running(victim)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the restarted node catches up and rejoins the ISR
        state = await _partition_state(kafka3.bootstrap_servers, "lk-rf3")
        if all(len(p["isr"]) == 3 for p in state):  # type: ignore[arg-type]
            break
        await asyncio.sleep(0.5)
    else:
        pytest.fail(f"ISR did not recover after restarting node {victim}: {state}")


def test_stop_leaves_no_java_process_and_no_temp_dir() -> None:
    cluster = LocalKafkaCluster(brokers=1)
    # Started from a thread that ends at once: the broker must not die with the thread
    # (PR_SET_PDEATHSIG follows the forking thread, so forks go through a long-lived one).
    starter = threading.Thread(target=cluster.start)
    starter.start()
    starter.join()
    data_dir = cluster.data_dir
    pids = cluster.pids()
    time.sleep(0.5)
    assert pids and cluster.is_node_running(1)
    assert _java_processes_under(data_dir) == pids

    cluster.stop()
    cluster.stop()  # idempotent

    assert _java_processes_under(data_dir) == []
    assert not data_dir.exists()
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


def test_a_broker_that_dies_at_start_is_reported_with_its_log() -> None:
    cluster = LocalKafkaCluster(brokers=1, heap="1k")  # the JVM refuses to start

    with pytest.raises(BrokerExited, match="exited") as caught:
        cluster.start()

    assert "heap" in str(caught.value).lower()
    assert not cluster.started
