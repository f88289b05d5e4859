"""Decide when a broker is really ready: it answers a Kafka metadata request.

An open port is not enough: a KRaft node can accept TCP connections before it
has joined the quorum and registered, and a Faust worker facing a port that
accepts but never answers hangs silently. So readiness is "this node answers a
MetadataRequest, for *our* cluster id, and lists every broker we expect".
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka.conn import create_conn
from aiokafka.errors import KafkaError
from aiokafka.protocol.metadata import MetadataRequest

from localservices.kafka.errors import BrokerStartError

__all__ = ["MetadataSnapshot", "probe_metadata", "run_coroutine_sync", "wait_until_ready"]

T = TypeVar("T")


@dataclass(frozen=True)
class MetadataSnapshot:
    """What one node said about the cluster."""

    cluster_id: str | None
    broker_ids: frozenset[int]
    controller_id: int | None


async def probe_metadata(host: str, port: int, *, timeout: float = 2.0) -> MetadataSnapshot:
    """Send one MetadataRequest (no topics) to ``host:port`` and return the answer.

    Raises ``OSError``, ``KafkaError`` or ``asyncio.TimeoutError`` when the node
    does not answer; callers poll.
    """
    async with asyncio.timeout(timeout):
        conn = await create_conn(host, port, request_timeout_ms=int(timeout * 1000))
        try:
            response = await conn.send(MetadataRequest([]))
        finally:
            conn.close()
    return MetadataSnapshot(
        cluster_id=getattr(response, "cluster_id", None),
        broker_ids=frozenset(int(broker[0]) for broker in response.brokers),
        controller_id=getattr(response, "controller_id", None),
    )


async def wait_until_ready(
    endpoints: Sequence[tuple[str, int]],
    *,
    cluster_id: str,
    expected_brokers: frozenset[int],
    timeout: float,
    check_alive: Callable[[], None],
) -> float:
    """Poll every endpoint until each answers metadata listing ``expected_brokers``.

    ``check_alive`` is called between polls and raises (with the broker log)
    when a JVM has died, so a crash is reported at once, not after ``timeout``.
    Returns the seconds waited.
    """
    started = time.monotonic()
    deadline = started + timeout
    pending = set(endpoints)
    last_problem = "no answer yet"
    while pending:
        check_alive()
        for host, port in sorted(pending):
            try:
                snapshot = await probe_metadata(host, port, timeout=1.5)
            except (OSError, KafkaError, TimeoutError) as exc:
                last_problem = f"{host}:{port}: {type(exc).__name__}: {exc}"
                continue
            if snapshot.cluster_id != cluster_id:
                last_problem = (
                    f"{host}:{port} belongs to cluster {snapshot.cluster_id!r}, "
                    f"not {cluster_id!r} (another broker on this port?)"
                )
            elif not expected_brokers <= snapshot.broker_ids:
                missing = sorted(expected_brokers - snapshot.broker_ids)
                last_problem = f"{host}:{port} does not list brokers {missing} yet"
            else:
                pending.discard((host, port))
        if not pending:
            break
        if time.monotonic() > deadline:
            raise BrokerStartError(
                f"broker(s) did not answer metadata within {timeout:.0f} s ({last_problem})"
            )
        await asyncio.sleep(0.1)
    return time.monotonic() - started


def run_coroutine_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a private event loop in a helper thread.

    Callers are synchronous (``start()``) but may sit inside a running loop (a
    pytest async fixture), where ``asyncio.run`` is refused; and ``asyncio.run``
    in the main thread would also reset the main thread's current loop, which
    pytest-asyncio's session loop relies on. A helper thread avoids both.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(factory())
        except BaseException as exc:
            box["error"] = exc

    helper = threading.Thread(target=target, name="localkafka-ready", daemon=True)
    helper.start()
    helper.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]
