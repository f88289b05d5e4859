"""Start-up checks that turn broker trouble into one clear line instead of a hang.

FAUST_NOTES.md: a worker pointed at a port that accepts connections but never
answers hangs silently. Before the worker starts we ask the broker for its
metadata with a deadline, create the topics of DESIGN.md, the internal topics
and the table changelogs with the configured partition count, and refuse to
run when the three order topics are not co-partitioned (one order's events
must meet on one worker). Last, before
Faust opens a store, local table stores older than the latest
``shopstream replay`` are wiped (:mod:`app.replay.generation`).
"""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from app.kafka import topic_names
from app.kafka.admin import ensure_topics
from app.replay.generation import prepare_datadir
from app.settings import Settings

__all__ = ["PreflightError", "check_broker", "ensure_topics", "run_preflight"]

#: Topics ShopStream reads or writes by contract; created when missing.
CONTRACT_TOPICS = (
    *topic_names.INPUT_TOPICS,
    topic_names.ORDER_STATUS,
    topic_names.ALERTS,
    topic_names.DEAD_LETTERS,
)


class PreflightError(RuntimeError):
    """The broker or its topics cannot serve this worker; the message is one line."""


async def check_broker(bootstrap: str, *, timeout: float) -> AIOKafkaAdminClient:
    """Connect an admin client and prove the broker answers a metadata request."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout)
        await asyncio.wait_for(admin.describe_cluster(), timeout)
    except (TimeoutError, KafkaError, OSError) as exc:
        with contextlib.suppress(Exception):
            await admin.close()
        reason = "did not answer a metadata request" if isinstance(exc, TimeoutError) else str(exc)
        raise PreflightError(
            f"Kafka broker at {bootstrap} unusable (KAFKA_BROKER): {reason} within {timeout:g}s"
        ) from None
    return admin


def _retry_levels(settings: Settings) -> int:
    """Webhook retry topics exist only when the webhook is configured."""
    return 0 if settings.webhook_url is None else settings.webhook_max_attempts - 1


async def run_preflight(settings: Settings, bootstrap: str) -> None:
    """All start-up checks of a worker; raises PreflightError with a one-line reason."""
    admin = await check_broker(bootstrap, timeout=settings.broker_timeout)
    try:
        counts = await ensure_topics(
            admin,
            (
                *CONTRACT_TOPICS,
                *topic_names.internal_topics(
                    settings.app_id, webhook_retry_levels=_retry_levels(settings)
                ),
            ),
            partitions=settings.partitions,
            replication=settings.replication_factor,
        )
        await ensure_topics(
            admin,
            topic_names.changelog_topics(settings.app_id),
            partitions=settings.partitions,
            replication=settings.replication_factor,
            configs={"cleanup.policy": "compact"},
        )
    except KafkaError as exc:
        raise PreflightError(
            f"cannot create the topics of DESIGN.md on {bootstrap}: {exc}"
        ) from None
    finally:
        await admin.close()
    copartitioned = (
        *topic_names.ORDER_PIPELINE_TOPICS,
        topic_names.order_commands(settings.app_id),
    )
    order_counts = {name: counts.get(name, 0) for name in copartitioned}
    if len(set(order_counts.values())) != 1:
        raise PreflightError(
            f"topics {sorted(order_counts)} must have the same partition count, got {order_counts}"
        )
    if order_counts[topic_names.ORDERS] != settings.partitions:
        raise PreflightError(
            f"SHOPSTREAM_PARTITIONS={settings.partitions} but topic orders has "
            f"{order_counts[topic_names.ORDERS]} partitions; set SHOPSTREAM_PARTITIONS to match"
        )
    try:
        await prepare_datadir(
            bootstrap, settings.app_id, settings.datadir, settings.replication_factor
        )
    except KafkaError as exc:
        raise PreflightError(f"cannot read the replay generation on {bootstrap}: {exc}") from None
