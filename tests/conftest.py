"""Shared fixtures: one real Kafka broker for the whole integration session.

Where the broker comes from, in this order:
1. ``KAFKA_BROKER`` is set: that broker is used (nothing is started).
2. ``SHOPSTREAM_TEST_BROKER=docker``: testcontainers' Kafka container, when a
   Docker engine answers; without one the integration tests are skipped with
   the reason.
3. Otherwise the project's own Apache Kafka (:mod:`localservices.kafka`), fetched from
   Maven Central once and started on a free loopback port.
Integration tests never fake the broker.

The schema registry (``schema_registry``, started only by the tests that ask
for it) comes from ``SCHEMA_REGISTRY_URL`` when set, otherwise the project's
own Apicurio Registry (:mod:`localservices.registry`) on a free loopback port.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# The App reads its settings at import; unit tests that import it must not
# touch the developer's ./data directory.
os.environ.setdefault("SHOPSTREAM_DATADIR", str(Path(__file__).parent / ".." / ".pytest-data"))


@dataclass(frozen=True)
class BrokerAddress:
    """How tests reach the session's broker."""

    url: str  # Faust form: kafka://host:port;host:port
    bootstrap: str  # aiokafka form: host:port,host:port


def _docker_broker() -> Iterator[BrokerAddress]:
    try:
        import docker

        docker.from_env().ping()  # type: ignore[attr-defined]
    except Exception as exc:  # any failure means: no engine here
        pytest.skip(f"SHOPSTREAM_TEST_BROKER=docker but no Docker engine answers: {exc}")
    from testcontainers.kafka import KafkaContainer

    with KafkaContainer().with_kraft() as container:
        bootstrap = container.get_bootstrap_server()
        yield BrokerAddress(url=f"kafka://{bootstrap}", bootstrap=bootstrap)


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[BrokerAddress]:
    """The session's real broker (see the module docstring for where it comes from)."""
    from app.settings import broker_url_to_bootstrap, load_settings

    configured = load_settings().kafka_broker
    if configured is not None:
        yield BrokerAddress(url=configured, bootstrap=broker_url_to_bootstrap(configured))
        return
    if os.environ.get("SHOPSTREAM_TEST_BROKER") == "docker":
        yield from _docker_broker()
        return
    from localservices.kafka import LocalKafkaCluster

    with LocalKafkaCluster(1, partitions=4) as cluster:
        yield BrokerAddress(url=cluster.url, bootstrap=cluster.bootstrap_servers)


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: BrokerAddress) -> str:
    """``host:port`` of the session broker, for plain aiokafka clients."""
    return kafka_broker.bootstrap


@pytest.fixture(scope="session")
def schema_registry() -> Iterator[str]:
    """The session's real Confluent-compatible registry: its URL (``…/apis/ccompat/v7``).

    In-memory and shared by the session: tests name their subjects with
    :func:`unique` ids so they do not meet.
    """
    configured = os.environ.get("SCHEMA_REGISTRY_URL")
    if configured:
        yield configured
        return
    from localservices.registry import LocalSchemaRegistry

    with LocalSchemaRegistry() as registry:
        yield registry.url


@pytest.fixture
def unique() -> str:
    """A short id that keeps one test's keys and consumer groups apart from another's."""
    return uuid.uuid4().hex[:10]
