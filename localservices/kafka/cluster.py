"""A real Apache Kafka (KRaft) cluster of 1..n local nodes, for tests and the demo.

Each node is one JVM acting as broker and controller, on free loopback ports.
``start()`` returns only when every node answers a metadata request that lists
every broker; ``stop()`` never leaves a JVM behind (see :mod:`localservices.kafka.process`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Literal

from localservices.kafka.classarchive import ClassArchive
from localservices.kafka.config import (
    LOOPBACK,
    NodeSpec,
    new_cluster_id,
    render_log4j2,
    render_server_properties,
)
from localservices.kafka.distribution import KAFKA_VERSION, KafkaDistribution, ensure_distribution
from localservices.kafka.errors import BrokerExited, BrokerStartError, LocalKafkaError
from localservices.kafka.layout import ClusterState, choose_ports, make_temp_dir
from localservices.kafka.process import JavaProcess, read_tail, register_cleanup, unregister_cleanup
from localservices.kafka.readiness import run_coroutine_sync, wait_until_ready
from localservices.service import LocalService

__all__ = ["LocalKafkaCluster"]

_PORT_RETRIES = 3  # free ports are released before the JVM binds them: retry a lost race

#: How a node's JVM compiles Kafka's code (``jit=`` of :class:`LocalKafkaCluster`).
#: "quick" stops at the first tier (C1): a broker that lives for a test or a demo spent
#: its first 10-15 s of load at 95-127 % of a core compiling with C2 (bench/README.md,
#: fifth round), work a short life never pays back. Three crash tests on a quick broker,
#: 2 pairs: 34.6 / 39.7 s of CPU against 50.0 / 49.0 s. "full" (the JVM's default tiers)
#: is for benchmarks, where the steady state is what is measured.
JIT_OPTIONS: Final[dict[str, tuple[str, ...]]] = {
    "quick": ("-XX:TieredStopAtLevel=1",),
    "full": (),
}


class LocalKafkaCluster(LocalService):
    """Start, stop and fault-inject a local Kafka cluster.

    ``brokers=1`` gives a single node (replication factor 1); ``brokers=3`` three
    nodes with a 3-voter controller quorum, replication factor 3 and
    ``min.insync.replicas=2``. Nodes are addressed by their Kafka ``node.id``
    (1..brokers), the id that metadata reports as partition leader.

    With ``data_dir=None`` the cluster lives in a temporary directory removed by
    ``stop()``; with a ``data_dir`` its topics survive restarts. ``jit="quick"``
    (the default, for tests and the demo) spares a short-lived broker the JVM's
    optimizing compiler; benchmarks ask for ``"full"`` (see :data:`JIT_OPTIONS`).
    """

    def __init__(
        self,
        brokers: int = 1,
        *,
        partitions: int = 4,
        data_dir: str | Path | None = None,
        port: int | None = None,
        heap: str = "512m",
        start_timeout: float = 90.0,
        stop_timeout: float = 20.0,
        extra_config: Mapping[str, str | int | bool] | None = None,
        version: str = KAFKA_VERSION,
        cache_root: str | Path | None = None,
        jit: Literal["quick", "full"] = "quick",
    ) -> None:
        if jit not in JIT_OPTIONS:
            raise ValueError(f"jit must be one of {sorted(JIT_OPTIONS)}, got {jit!r}")
        if brokers < 1:
            raise ValueError(f"brokers must be >= 1, got {brokers}")
        if partitions < 1:
            raise ValueError(f"partitions must be >= 1, got {partitions}")
        self.brokers = brokers
        self.partitions = partitions
        self.port = port
        self.heap = heap
        self.jit = jit
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.extra_config = dict(extra_config or {})
        self.version = version
        self.cache_root = cache_root
        self._requested_dir = (
            Path(data_dir).expanduser().resolve() if data_dir is not None else None
        )
        self._base: Path | None = None
        self._dist: KafkaDistribution | None = None
        self._cluster_id = ""
        self._nodes: dict[int, NodeSpec] = {}
        self._procs: dict[int, JavaProcess] = {}
        self._archive: ClassArchive | None = None
        self.startup_seconds: float | None = None  # JVM spawn -> metadata answers

    # -- addresses -------------------------------------------------------------

    @property
    def started(self) -> bool:
        return bool(self._procs)

    @property
    def cluster_id(self) -> str:
        return self._cluster_id

    @property
    def data_dir(self) -> Path:
        return self._require_base()

    @property
    def node_ids(self) -> list[int]:
        return sorted(self._nodes)

    @property
    def broker_ports(self) -> list[int]:
        return [self._nodes[i].broker_port for i in self.node_ids]

    @property
    def bootstrap_servers(self) -> str:
        """``"127.0.0.1:p1,127.0.0.1:p2"``, for aiokafka's ``bootstrap_servers``."""
        return ",".join(f"{LOOPBACK}:{p}" for p in self.broker_ports)

    @property
    def url(self) -> str:
        """``"kafka://127.0.0.1:p1;127.0.0.1:p2"``, Faust's broker URL list form."""
        return "kafka://" + ";".join(f"{LOOPBACK}:{p}" for p in self.broker_ports)

    def log_file(self, node_id: int) -> Path:
        return self._node(node_id).log_file

    # -- lifecycle --------------------------------------------------------------

    def start(self) -> LocalKafkaCluster:
        """Fetch Kafka if needed, format storage, start every node, wait for metadata."""
        if self.started:
            return self
        self._dist = ensure_distribution(self.version, self.cache_root)
        if self._archive is None or self._archive.path != self._dist.class_archive:
            self._archive = ClassArchive(self._dist.class_archive)
        if self._requested_dir is not None:
            self._requested_dir.mkdir(parents=True, exist_ok=True)
            self._base = self._requested_dir
        else:
            self._base = make_temp_dir()
        register_cleanup(self)
        try:
            self._start_all()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_all(self) -> None:
        for attempt in range(_PORT_RETRIES):
            self._prepare_nodes(reuse_ports=attempt == 0)
            self._format_storage()
            spawned = time.monotonic()
            for node_id in self.node_ids:
                self._spawn(node_id)
            try:
                self._wait_ready(self.node_ids, self.start_timeout)
            except BrokerStartError as exc:
                lost_race = self.port is None and "Address already in use" in str(exc)
                if not lost_race or attempt == _PORT_RETRIES - 1:
                    raise
                self._terminate_all()  # another process took a port: pick new ones
                continue
            self.startup_seconds = time.monotonic() - spawned
            return

    def stop(self) -> None:
        """Stop every node (see :meth:`_terminate_all`: SIGTERM where a clean exit matters). Idempotent."""
        self._terminate_all()
        unregister_cleanup(self)
        if self._requested_dir is None and self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
            self._base = None

    def _terminate_all(self) -> None:
        """SIGTERM the nodes whose clean exit matters, SIGKILL the others.

        A clean exit matters for data that is kept (a ``data_dir``) and for the JVM
        writing the class archive; a throwaway cluster's data is deleted right
        after, and a clean KRaft shutdown of several nodes waits for quorum
        (~15 s for the last of three), so those nodes are killed at once.
        """
        procs = list(self._procs.values())
        writer = None if self._archive is None else self._archive.writer
        clean = [p for p in procs if self._requested_dir is not None or p is writer]
        for proc in clean:
            proc.send_terminate()  # in parallel: a lone survivor may wait for its peers
        for proc in procs:
            if proc not in clean:
                proc.kill()
        deadline = time.monotonic() + self.stop_timeout
        for proc in clean:
            if not proc.wait(max(0.0, deadline - time.monotonic())):
                proc.kill()
        self._procs.clear()
        if self._archive is not None:
            self._archive.publish()

    # -- per-node control (fault tests) -----------------------------------------

    def kill_node(self, node_id: int) -> None:
        """SIGKILL one node, as a crash would: no controlled shutdown, no flush."""
        self._node(node_id)
        proc = self._procs.get(node_id)
        if proc is not None:
            proc.kill()

    def stop_node(self, node_id: int) -> None:
        """Stop one node cleanly (SIGTERM; SIGKILL after ``stop_timeout``)."""
        self._node(node_id)
        proc = self._procs.get(node_id)
        if proc is not None:
            proc.stop(self.stop_timeout)
            self._require_archive().publish()

    def start_node(self, node_id: int, *, timeout: float | None = None) -> None:
        """Restart a stopped or killed node on its old ports and data; wait until it answers."""
        self._node(node_id)
        if self.is_node_running(node_id):
            return
        self._spawn(node_id)
        self._wait_ready([node_id], timeout if timeout is not None else self.start_timeout)

    def is_node_running(self, node_id: int) -> bool:
        proc = self._procs.get(node_id)
        return proc is not None and proc.is_alive()

    def pids(self) -> list[int]:
        """Process ids of the running JVMs (for tests that look for leftovers)."""
        return [p.pid for p in self._procs.values() if p.pid is not None and p.is_alive()]

    # -- internals ----------------------------------------------------------------

    def _require_base(self) -> Path:
        if self._base is None:
            raise LocalKafkaError("the cluster is not started")
        return self._base

    def _require_archive(self) -> ClassArchive:
        if self._archive is None:
            raise LocalKafkaError("the cluster is not started")
        return self._archive

    def _require_dist(self) -> KafkaDistribution:
        if self._dist is None:
            raise LocalKafkaError("the cluster is not started")
        return self._dist

    def _node(self, node_id: int) -> NodeSpec:
        node = self._nodes.get(node_id)
        if node is None:
            raise LocalKafkaError(f"no node {node_id}; this cluster has nodes {self.node_ids}")
        return node

    def _prepare_nodes(self, *, reuse_ports: bool) -> None:
        """Choose ports, write every node's config files and save the cluster state."""
        base = self._require_base()
        previous = ClusterState.load(base, brokers=self.brokers)
        self._cluster_id = previous.cluster_id if previous is not None else new_cluster_id()
        broker_ports, controller_ports = choose_ports(
            self.brokers, port=self.port, previous=previous if reuse_ports else None
        )
        self._nodes = {
            i: NodeSpec(i, broker_ports[i - 1], controller_ports[i - 1], base / f"node-{i}")
            for i in range(1, self.brokers + 1)
        }
        cluster = list(self._nodes.values())
        for node in cluster:
            node.log_file.parent.mkdir(parents=True, exist_ok=True)
            node.properties_file.write_text(
                render_server_properties(
                    node, cluster, partitions=self.partitions, extra=self.extra_config
                )
            )
            node.log4j2_file.write_text(render_log4j2(node.log_file))
            format_config = render_log4j2(node.format_log_file, level="WARN")
            (node.home / "log4j2-format.properties").write_text(format_config)
        state = ClusterState(
            self._cluster_id, self.brokers, self.version, broker_ports, controller_ports
        )
        state.save(base)

    def _java(self, node: NodeSpec, *jvm_options: str, log_config: Path | None = None) -> list[str]:
        dist = self._require_dist()
        return [
            dist.java,
            *jvm_options,
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log_config or node.log4j2_file}",
            "-cp",
            dist.classpath,
        ]

    def _format_storage(self) -> None:
        """``StorageTool format`` every node not formatted yet, all in parallel."""
        tools: dict[int, JavaProcess] = {}
        for node in self._nodes.values():
            if (node.log_dirs / "meta.properties").exists():
                continue
            argv = self._java(
                node,
                *self._require_archive().options(may_write=False),
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                log_config=node.home / "log4j2-format.properties",
            )
            argv += ["kafka.tools.StorageTool", "format", f"--cluster-id={self._cluster_id}"]
            argv += [f"--config={node.properties_file}"]
            tools[node.node_id] = JavaProcess(
                argv, console_file=node.format_log_file, cwd=node.home
            )
            tools[node.node_id].start()
        codes = {node_id: tool.run_to_completion(timeout=120) for node_id, tool in tools.items()}
        for node_id, code in codes.items():
            if code != 0:
                node = self._nodes[node_id]
                raise BrokerStartError(
                    f"formatting KRaft storage of node {node_id} failed (exit {code}):\n"
                    + read_tail([node.format_log_file])
                )

    def _spawn(self, node_id: int) -> None:
        node = self._node(node_id)
        archive = self._require_archive()
        argv = self._java(
            node,
            *archive.options(may_write=True),
            f"-Xmx{self.heap}",
            *JIT_OPTIONS[self.jit],
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExplicitGCInvokesConcurrent",
        )
        argv += ["kafka.Kafka", str(node.properties_file)]
        proc = JavaProcess(argv, console_file=node.console_file, cwd=node.home)
        proc.start()
        self._procs[node_id] = proc
        archive.track(proc)

    def _tails(self, node_ids: list[int]) -> str:
        nodes = [self._nodes[i] for i in node_ids]
        return read_tail([path for n in nodes for path in (n.console_file, n.log_file)], 25)

    def _wait_ready(self, node_ids: list[int], timeout: float) -> None:
        def check_alive() -> None:
            for node_id in node_ids:
                proc = self._procs.get(node_id)
                if proc is None or not proc.is_alive():
                    code = proc.returncode if proc is not None else None
                    raise BrokerExited(
                        f"Kafka node {node_id} exited (code {code}) while starting:\n"
                        + self._tails([node_id])
                    )

        endpoints = [(LOOPBACK, self._nodes[i].broker_port) for i in node_ids]
        try:
            run_coroutine_sync(
                lambda: wait_until_ready(
                    endpoints,
                    cluster_id=self._cluster_id,
                    expected_brokers=frozenset(node_ids),
                    timeout=timeout,
                    check_alive=check_alive,
                )
            )
        except BrokerExited:
            raise
        except BrokerStartError as exc:  # timed out: show what the brokers said
            raise BrokerStartError(f"{exc}\n{self._tails(node_ids)}") from exc

    def __repr__(self) -> str:
        state = "running" if self.started else "stopped"
        return f"<LocalKafkaCluster brokers={self.brokers} {state} url={self.url!r}>"
