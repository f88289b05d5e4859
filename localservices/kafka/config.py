"""Render the files a local KRaft node needs: ``server.properties`` and a log4j2 config.

Pure functions (no processes, no network) so the settings that make tests fast
and correct can be unit-tested and read in one place.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LOOPBACK",
    "NodeSpec",
    "free_ports",
    "new_cluster_id",
    "render_log4j2",
    "render_server_properties",
]

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class NodeSpec:
    """One combined broker+controller node: its id, ports and directory."""

    node_id: int
    broker_port: int
    controller_port: int
    home: Path  # <cluster dir>/node-<id>: config, data and logs of this node only

    @property
    def properties_file(self) -> Path:
        return self.home / "server.properties"

    @property
    def log4j2_file(self) -> Path:
        return self.home / "log4j2.properties"

    @property
    def log_dirs(self) -> Path:
        """Kafka's data (``log.dirs``): partitions and the KRaft metadata log."""
        return self.home / "data"

    @property
    def log_file(self) -> Path:
        """The broker's own log (log4j2), kept out of the caller's stdout."""
        return self.home / "logs" / "server.log"

    @property
    def console_file(self) -> Path:
        """The JVM's stdout/stderr: crashes before logging starts, SLF4J notices."""
        return self.home / "logs" / "console.log"

    @property
    def format_log_file(self) -> Path:
        """Output of ``StorageTool format`` (kept apart so it never hides a broker error)."""
        return self.home / "logs" / "format.log"

    @property
    def bootstrap(self) -> str:
        return f"{LOOPBACK}:{self.broker_port}"


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """Ask the kernel for ``count`` distinct free ports by binding port 0.

    All sockets are held open until every port is chosen so the kernel cannot
    hand out the same port twice; they are closed before the JVM binds them
    (a small race that :class:`~localservices.kafka.cluster.LocalKafkaCluster` retries).
    """
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((host, 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def new_cluster_id() -> str:
    """A KRaft cluster id: a random UUID as unpadded URL-safe base64 (22 chars).

    Like Kafka's own ``Uuid.randomUuid``, never one that starts with ``-``: the
    storage tool's argument parser would read it as an option.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode("ascii")
        if not cluster_id.startswith("-"):
            return cluster_id


def _replication(nodes: int) -> tuple[int, int]:
    """(replication factor, min in-sync replicas) for a cluster of ``nodes`` nodes.

    One node: 1/1. Three or more: 3/2, so one node can die while ``acks=all``
    producers keep going. Two: 2/1.
    """
    factor = min(nodes, 3)
    return factor, max(1, factor - 1)


def render_server_properties(
    node: NodeSpec,
    cluster: Sequence[NodeSpec],
    *,
    partitions: int = 4,
    extra: Mapping[str, str | int | bool] | None = None,
) -> str:
    """The ``server.properties`` of ``node`` in a combined-mode KRaft ``cluster``.

    Every node is both broker and controller and the controller quorum is
    static (``controller.quorum.voters``), so storage is formatted without
    ``--standalone`` and the same way for one node or several.
    """
    factor, min_isr = _replication(len(cluster))
    voters = ",".join(f"{n.node_id}@{LOOPBACK}:{n.controller_port}" for n in cluster)
    settings: dict[str, str | int | bool] = {
        "process.roles": "broker,controller",
        "node.id": node.node_id,
        "controller.quorum.voters": voters,
        "listeners": (
            f"PLAINTEXT://{LOOPBACK}:{node.broker_port},CONTROLLER://{LOOPBACK}:{node.controller_port}"
        ),
        "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{node.broker_port}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(node.log_dirs),
        # Topics: created on first use, as Faust and the tests expect.
        "num.partitions": partitions,
        "auto.create.topics.enable": True,
        "default.replication.factor": factor,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": factor,
        "transaction.state.log.replication.factor": factor,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": factor,
        "share.coordinator.state.topic.min.isr": min_isr,
        # Tests: a group's first rebalance must not wait 3 s for more members.
        "group.initial.rebalance.delay.ms": 0,
        # Fault tests: notice a SIGKILLed node in ~3 s (defaults 9 s / 30 s) so
        # leadership moves and the ISR shrinks quickly.
        "broker.session.timeout.ms": 3000,
        "broker.heartbeat.interval.ms": 500,
        "replica.lag.time.max.ms": 5000,
        # Small footprint: a laptop runs up to three of these next to the workers.
        "num.network.threads": 2,
        "num.io.threads": 4,
        "num.recovery.threads.per.data.dir": 2,
        "log.cleaner.dedupe.buffer.size": 16 * 1024 * 1024,  # default 128 MiB of heap
    }
    for key, value in (extra or {}).items():
        settings[key] = value
    lines = [f"# Generated by localkafka for node {node.node_id}; edits are overwritten."]
    for key, value in settings.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        lines.append(f"{key}={text}")
    return "\n".join(lines) + "\n"


def render_log4j2(log_file: Path, *, level: str = "INFO") -> str:
    """A log4j2 properties config that writes the broker log to ``log_file`` only.

    Kafka 4.x logs through log4j2; without a config it would print to the
    caller's stdout (or nowhere). The chattiest loggers are kept at WARN.
    """
    return "\n".join(
        [
            "status = warn",
            "name = localkafka",
            "appender.file.type = RollingFile",
            "appender.file.name = file",
            f"appender.file.fileName = {log_file}",
            f"appender.file.filePattern = {log_file}.%i",
            "appender.file.layout.type = PatternLayout",
            "appender.file.layout.pattern = [%d] %p %m (%c)%n",
            "appender.file.policies.type = Policies",
            "appender.file.policies.size.type = SizeBasedTriggeringPolicy",
            "appender.file.policies.size.size = 20MB",
            "appender.file.strategy.type = DefaultRolloverStrategy",
            "appender.file.strategy.max = 2",
            f"rootLogger.level = {level}",
            "rootLogger.appenderRef.file.ref = file",
            "logger.state.name = state.change.logger",
            "logger.state.level = WARN",
            "logger.request.name = kafka.request.logger",
            "logger.request.level = WARN",
            "logger.cleaner.name = kafka.log.LogCleaner",
            "logger.cleaner.level = WARN",
            "",
        ]
    )
