"""Where a cluster lives on disk and which ports it uses, across runs.

A cluster directory holds ``cluster.json`` (id, size, ports) and one
``node-<id>/`` per node. Keeping the id is what lets a persistent data dir be
restarted; keeping the ports (when still free) gives the demo the same
``KAFKA_BROKER`` URL from one run to the next.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from localservices.kafka.config import LOOPBACK, free_ports
from localservices.kafka.errors import BrokerStartError, LocalKafkaError

__all__ = ["ClusterState", "choose_ports", "is_port_free", "make_temp_dir"]

_STATE_FILE = "cluster.json"
_TEMP_PREFIX = "localkafka-"
_OWNER_FILE = "owner.pid"


@dataclass(frozen=True)
class ClusterState:
    """What must stay the same when a cluster directory is started again."""

    cluster_id: str
    brokers: int
    kafka_version: str
    broker_ports: list[int]
    controller_ports: list[int]

    @classmethod
    def load(cls, base: Path, *, brokers: int) -> ClusterState | None:
        """The state saved in ``base``, or None for a new directory.

        Raises :class:`LocalKafkaError` when ``base`` holds a cluster of another
        size: its storage is formatted for a different controller quorum.
        """
        try:
            raw = json.loads((base / _STATE_FILE).read_text())
            state = cls(**raw)
        except (OSError, ValueError, TypeError):
            return None
        if state.brokers != brokers:
            raise LocalKafkaError(
                f"{base} holds a {state.brokers}-node cluster, not {brokers}: "
                "start it with that many brokers or use another data dir"
            )
        return state

    def save(self, base: Path) -> None:
        (base / _STATE_FILE).write_text(json.dumps(asdict(self), indent=1))


def is_port_free(port: int) -> bool:
    """True when ``port`` can be bound on loopback now (TIME_WAIT does not count)."""
    if not 0 < port < 65536:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, port))
        return True
    return False


def choose_ports(
    brokers: int, *, port: int | None, previous: ClusterState | None
) -> tuple[list[int], list[int]]:
    """(broker ports, controller ports): ``port`` for node 1 if given, last run's if
    all still free, otherwise new free ones."""
    if previous is not None:
        wanted = [port, *previous.broker_ports[1:]] if port else list(previous.broker_ports)
        if all(is_port_free(p) for p in [*wanted, *previous.controller_ports]):
            return wanted, list(previous.controller_ports)
    if port is not None and not is_port_free(port):
        raise BrokerStartError(f"port {port} on {LOOPBACK} is already in use")
    fresh = iter(p for p in free_ports(2 * brokers + 1) if p != port)
    broker_ports = [next(fresh) for _ in range(brokers)]
    if port is not None:
        broker_ports[0] = port
    return broker_ports, [next(fresh) for _ in range(brokers)]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def make_temp_dir() -> Path:
    """A fresh temporary cluster dir, after removing those of owners that are gone.

    ``stop()`` and the exit hooks remove a temp dir, but nothing runs when the
    owner is SIGKILLed; its dir is removed by the next run instead.
    """
    for old in Path(tempfile.gettempdir()).glob(f"{_TEMP_PREFIX}*"):
        with contextlib.suppress(OSError, ValueError):
            owner = int((old / _OWNER_FILE).read_text())
            if not _pid_alive(owner):
                shutil.rmtree(old, ignore_errors=True)
    base = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX))
    (base / _OWNER_FILE).write_text(str(os.getpid()))
    return base
