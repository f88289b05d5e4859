"""localkafka without a broker: rendered settings, prerequisites, the cache, ports."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from localservices.kafka import distribution
from localservices.kafka.cli import build_parser
from localservices.kafka.cluster import JIT_OPTIONS, LocalKafkaCluster
from localservices.kafka.config import (
    NodeSpec,
    free_ports,
    new_cluster_id,
    render_log4j2,
    render_server_properties,
)
from localservices.kafka.errors import LocalKafkaError, MissingPrerequisite
from localservices.kafka.layout import ClusterState, choose_ports


def _nodes(count: int, base: Path) -> list[NodeSpec]:
    return [NodeSpec(i, 9000 + i, 9100 + i, base / f"node-{i}") for i in range(1, count + 1)]


def _parse(properties: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in properties.splitlines() if "=" in line)
    return {key: value for key, value in pairs if not key.startswith("#")}


def test_single_node_settings_are_replication_factor_one(tmp_path: Path) -> None:
    (node,) = _nodes(1, tmp_path)

    props = _parse(render_server_properties(node, [node], partitions=6))

    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9101"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9001,CONTROLLER://127.0.0.1:9101"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9001"
    assert props["log.dirs"] == str(tmp_path / "node-1" / "data")
    assert props["num.partitions"] == "6"
    assert props["auto.create.topics.enable"] == "true"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    for key in (
        "default.replication.factor",
        "min.insync.replicas",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
    ):
        assert props[key] == "1", key


def test_three_nodes_share_a_quorum_and_replicate_three_times(tmp_path: Path) -> None:
    cluster = _nodes(3, tmp_path)

    rendered = [_parse(render_server_properties(n, cluster)) for n in cluster]

    voters = "1@127.0.0.1:9101,2@127.0.0.1:9102,3@127.0.0.1:9103"
    assert {p["controller.quorum.voters"] for p in rendered} == {voters}
    assert [p["node.id"] for p in rendered] == ["1", "2", "3"]
    assert rendered[1]["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9002"
    assert len({p["log.dirs"] for p in rendered}) == 3
    props = rendered[0]
    assert props["default.replication.factor"] == "3"
    assert props["min.insync.replicas"] == "2"
    assert props["offsets.topic.replication.factor"] == "3"
    assert props["transaction.state.log.replication.factor"] == "3"
    assert props["transaction.state.log.min.isr"] == "2"


def test_extra_settings_override_defaults(tmp_path: Path) -> None:
    (node,) = _nodes(1, tmp_path)

    props = _parse(
        render_server_properties(
            node, [node], extra={"auto.create.topics.enable": False, "log.retention.ms": 1000}
        )
    )

    assert props["auto.create.topics.enable"] == "false"
    assert props["log.retention.ms"] == "1000"


def test_log4j2_config_writes_to_the_node_log_only(tmp_path: Path) -> None:
    config = render_log4j2(tmp_path / "server.log")

    assert f"appender.file.fileName = {tmp_path / 'server.log'}" in config
    assert "Console" not in config
    assert "rootLogger.level = INFO" in config


def test_cluster_id_is_22_url_safe_chars_never_starting_with_dash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 0xf8... encodes to "-" first in URL-safe base64: the storage tool would read an option.
    dash_first = uuid.UUID(bytes=b"\xf8" + b"\x00" * 15)
    ids = iter([dash_first, uuid.UUID(int=1)])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(ids))

    cluster_id = new_cluster_id()

    assert len(cluster_id) == 22
    assert not cluster_id.startswith("-")
    assert "=" not in cluster_id


def test_free_ports_are_distinct() -> None:
    ports = free_ports(6)

    assert len(set(ports)) == 6
    assert all(1024 < p < 65536 for p in ports)


def test_choose_ports_honours_the_requested_port() -> None:
    wanted = free_ports(1)[0]

    brokers, controllers = choose_ports(3, port=wanted, previous=None)

    assert brokers[0] == wanted
    assert len(set(brokers + controllers)) == 6


def test_choose_ports_reuses_last_runs_ports_when_free() -> None:
    ports = free_ports(2)
    previous = ClusterState("id", 1, "4.3.1", [ports[0]], [ports[1]])

    assert choose_ports(1, port=None, previous=previous) == ([ports[0]], [ports[1]])


def test_state_of_another_cluster_size_is_refused(tmp_path: Path) -> None:
    ClusterState("id", 1, "4.3.1", [1], [2]).save(tmp_path)

    with pytest.raises(LocalKafkaError, match="1-node cluster"):
        ClusterState.load(tmp_path, brokers=3)


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ('java version "1.8.0_392"', 8),
        ("something else", None),
    ],
)
def test_parse_java_major(output: str, major: int | None) -> None:
    assert distribution.parse_java_major(output) == major


def test_missing_java_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)

    with pytest.raises(MissingPrerequisite) as caught:
        distribution.check_java()

    message = str(caught.value)
    assert message.startswith("java (JDK 17+) not found")
    assert "openjdk-17-jdk-headless" in message
    assert "\n" not in message


def test_old_java_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: "/opt/java11/bin/java")

    def fake_run(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess([], 0, "", 'openjdk version "11.0.2" 2019-01-15')

    monkeypatch.setattr(subprocess, "run", fake_run)

    with pytest.raises(MissingPrerequisite, match=r"is Java 11; Kafka .* needs Java 17"):
        distribution.check_java()


def test_missing_maven_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)

    with pytest.raises(MissingPrerequisite, match=r"^mvn \(Apache Maven\) not found"):
        distribution.find_mvn()


def _fake_java(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = distribution.JavaRuntime("/usr/bin/java", 17, 'openjdk version "17.0.15"')
    monkeypatch.setattr(distribution, "check_java", lambda: runtime)


def test_a_complete_cache_needs_neither_maven_nor_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_java(monkeypatch)
    monkeypatch.setattr(shutil, "which", lambda name: None)  # no mvn
    monkeypatch.setenv(distribution.CACHE_DIR_ENV, str(tmp_path))
    home = tmp_path / "kafka-4.3.1"
    (home / "libs").mkdir(parents=True)
    (home / "libs" / "kafka_2.13-4.3.1.jar").write_bytes(b"")
    marker = {"version": "4.3.1", "jars": ["kafka_2.13-4.3.1.jar"]}
    (home / "fetch-complete.json").write_text(json.dumps(marker))

    dist = distribution.ensure_distribution("4.3.1")

    assert dist.home == home
    assert dist.classpath == f"{home / 'libs'}/*"


def test_an_incomplete_cache_needs_maven(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_java(monkeypatch)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    home = tmp_path / "kafka-4.3.1"
    (home / "libs").mkdir(parents=True)
    marker = {"version": "4.3.1", "jars": ["kafka_2.13-4.3.1.jar"]}  # jar listed, not there
    (home / "fetch-complete.json").write_text(json.dumps(marker))

    with pytest.raises(MissingPrerequisite, match="mvn"):
        distribution.ensure_distribution("4.3.1", cache_root=tmp_path)


def test_pom_template_pins_the_kafka_release() -> None:
    pom = distribution._render_pom("4.3.1")

    assert "<artifactId>kafka_2.13</artifactId>" in pom
    assert "<version>4.3.1</version>" in pom
    assert "@" not in pom.split("-->", 1)[1]  # every placeholder substituted


def test_cli_flags() -> None:
    args = build_parser().parse_args(
        ["--port", "9092", "--brokers", "3", "--datadir", "/tmp/k", "--partitions", "8"]
    )

    assert (args.port, args.brokers, args.datadir, args.partitions) == (9092, 3, "/tmp/k", 8)


def test_a_broker_compiles_quickly_unless_full_jit_is_asked_for() -> None:
    assert LocalKafkaCluster().jit == "quick"
    assert JIT_OPTIONS["quick"] == ("-XX:TieredStopAtLevel=1",)
    assert JIT_OPTIONS["full"] == ()
    with pytest.raises(ValueError, match="jit must be one of"):
        LocalKafkaCluster(jit="c2")  # type: ignore[arg-type]
