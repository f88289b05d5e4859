"""Events, times and a broker of their own for the analytics integration tests.

Why a broker of their own: topic names are fixed, every test's worker group
reads ``clickstream`` from the beginning, and analytics judge lateness against
the newest event time of a partition. Events of other tests would count in
(or make late) these tests' events, and the 25-hour jumps these tests make
would make every later test's events late. A local broker starts in about two
seconds; when ``KAFKA_BROKER`` or the Docker broker is chosen, the session
broker is used as it is, with event times in 2001 (before anything else).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from aiokafka.partitioner import murmur2

from app.settings import load_settings
from domain.timefmt import format_time
from tests.conftest import BrokerAddress

__all__ = [
    "click",
    "converge",
    "fresh_base_time",
    "order_created",
    "own_broker",
    "partition_of",
    "sessions_per_partition",
]

PARTITIONS = 4
_BASES = itertools.count()


def fresh_base_time() -> datetime:
    """A whole hour no earlier test of this process used (ten days apart)."""
    return datetime(2001, 1, 1, tzinfo=UTC) + timedelta(days=10 * next(_BASES))


def _uses_configured_broker() -> bool:
    return (
        load_settings().kafka_broker is not None
        or os.environ.get("SHOPSTREAM_TEST_BROKER") == "docker"
    )


def own_broker(kafka_broker: BrokerAddress) -> Iterator[BrokerAddress]:
    """A test module's own local broker (see the module docstring), else the session's.

    Use it to override ``kafka_broker`` with a module-scoped fixture.
    """
    if _uses_configured_broker():
        yield kafka_broker
        return
    from localservices.kafka import LocalKafkaCluster

    with LocalKafkaCluster(1, partitions=PARTITIONS) as cluster:
        yield BrokerAddress(url=cluster.url, bootstrap=cluster.bootstrap_servers)


def partition_of(key: str, partitions: int = PARTITIONS) -> int:
    """The partition Kafka's default partitioner (murmur2) gives ``key``."""
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def sessions_per_partition(prefix: str, partitions: int = PARTITIONS) -> list[str]:
    """One session id per partition, in partition order."""
    found: dict[int, str] = {}
    for n in itertools.count():
        session = f"{prefix}-{n}"
        found.setdefault(partition_of(session, partitions), session)
        if len(found) == partitions:
            return [found[p] for p in range(partitions)]
    raise AssertionError("unreachable")


def click(
    event_id: str, kind: str, session: str, when: datetime, sku: str | None = None
) -> tuple[str, str, dict[str, Any]]:
    """A clickstream record (topic, key, value) as DESIGN.md shows it."""
    value = {
        "event_id": event_id,
        "type": kind,
        "session_id": session,
        "customer_id": None,
        "sku": sku,
        "category": None if sku is None else "books",
        "occurred_at": format_time(when),
    }
    return "clickstream", session, value


def order_created(
    order_id: str,
    session: str | None,
    when: datetime,
    items: list[tuple[str, int, str]],
    currency: str = "EUR",
) -> tuple[str, str, dict[str, Any]]:
    """An ``orders`` record; ``items`` are (sku, quantity, unit price); the total adds up."""
    total = sum((Decimal(price) * quantity for _, quantity, price in items), Decimal("0"))
    value = {
        "event_id": f"{order_id}-created",
        "type": "order_created",
        "order_id": order_id,
        "customer_id": f"{order_id}-customer",
        "session_id": session,
        "currency": currency,
        "total": f"{total:.2f}",
        "items": [
            {"sku": sku, "category": "books", "quantity": quantity, "unit_price": price}
            for sku, quantity, price in items
        ],
        "occurred_at": format_time(when),
    }
    return "orders", order_id, value


async def converge(fetch: Callable[[], Any], expected: Any, *, timeout: float = 60.0) -> Any:
    """Poll ``fetch`` (sync) until it returns ``expected``; on timeout, fail showing the diff."""
    deadline = time.monotonic() + timeout
    while True:
        actual = await asyncio.to_thread(fetch)
        if actual == expected:
            return actual
        if time.monotonic() > deadline:
            raise AssertionError(f"not converged within {timeout:g}s:\n{_diff(expected, actual)}")
        await asyncio.sleep(0.3)


def _diff(expected: Any, actual: Any) -> str:
    if isinstance(expected, dict) and isinstance(actual, dict):
        return "\n".join(
            f"  {key}:\n    expected {expected.get(key)!r}\n    actual   {actual.get(key)!r}"
            for key in sorted(set(expected) | set(actual), key=str)
            if expected.get(key) != actual.get(key)
        )
    return f"  expected {expected!r}\n  actual   {actual!r}"
