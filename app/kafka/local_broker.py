"""The local embedded broker used when ``KAFKA_BROKER`` is not set (DESIGN.md).

Rule: with no ``KAFKA_BROKER``, ShopStream talks to ``127.0.0.1:9092``. If a
Kafka broker already answers there (``shopstream kafka`` in another terminal,
``make demo``), it is used; otherwise this process starts one itself with
:mod:`localservices.kafka`, keeps its data under ``$SHOPSTREAM_DATADIR/kafka`` and stops
it when the process ends. One way to start a broker, for tests and demo alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from app.kafka.preflight import PreflightError, check_broker
from app.settings import Settings
from localservices.kafka import LocalKafkaCluster, LocalKafkaError

__all__ = ["LOCAL_PORT", "LocalBrokerError", "ensure_local_broker", "start_demo_broker"]

LOCAL_HOST = "127.0.0.1"
LOCAL_PORT = 9092

#: Brokers this process started; they live as long as the process does.
_embedded: list[LocalKafkaCluster] = []


class LocalBrokerError(RuntimeError):
    """The local broker can neither be found nor started; the message is one line."""


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((LOCAL_HOST, port)) == 0


def _answers(bootstrap: str, timeout: float) -> bool:
    async def probe() -> None:
        admin = await check_broker(bootstrap, timeout=timeout)
        await admin.close()

    try:
        asyncio.run(probe())
    except PreflightError:
        return False
    return True


def start_local_cluster(settings: Settings, *, port: int | None = LOCAL_PORT) -> LocalKafkaCluster:
    """Start a one-node broker whose topics survive restarts (data under the datadir)."""
    cluster = LocalKafkaCluster(
        1, partitions=settings.partitions, data_dir=settings.datadir / "kafka", port=port
    )
    try:
        return cluster.start()
    except LocalKafkaError as exc:
        raise LocalBrokerError(f"cannot start the local Kafka broker: {exc}") from None


def ensure_local_broker(settings: Settings) -> str:
    """Return the URL of a local broker that answers, starting one if none does."""
    bootstrap = f"{LOCAL_HOST}:{LOCAL_PORT}"
    if _port_in_use(LOCAL_PORT):
        if _answers(bootstrap, timeout=min(settings.broker_timeout, 10.0)):
            return f"kafka://{bootstrap}"
        raise LocalBrokerError(
            f"KAFKA_BROKER is unset and port {LOCAL_PORT} is taken by something that does "
            "not answer as Kafka; set KAFKA_BROKER=kafka://host:port"
        )
    cluster = start_local_cluster(settings)
    _embedded.append(cluster)
    return cluster.url


def start_demo_broker(settings: Settings) -> tuple[LocalKafkaCluster | None, str]:
    """For ``make demo``: reuse a broker on 9092, else start one (on 9092 when free)."""
    bootstrap = f"{LOCAL_HOST}:{LOCAL_PORT}"
    if _port_in_use(LOCAL_PORT):
        if _answers(bootstrap, timeout=5.0):
            return None, f"kafka://{bootstrap}"
        cluster = start_local_cluster(settings, port=None)
    else:
        cluster = start_local_cluster(settings)
    return cluster, cluster.url


def stop_embedded() -> None:
    """Stop the brokers this process started (also done at exit by localkafka)."""
    while _embedded:
        with contextlib.suppress(LocalKafkaError):
            _embedded.pop().stop()
