"""Topics made sure of at start-up: the worker's preflight and the replay generation topic.

``shopstream replay`` re-creates the topics it deleted with its own loop (``app.replay.command``):
it must retry while their old selves finish deleting, which a start-up never meets.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Mapping
from typing import Final

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

__all__ = ["ensure_topics"]

#: How long a topic just created may show no partitions in the metadata, and how often to look.
#: On one local broker new topics showed up 0.02-0.75 s after CreateTopics returned; a look
#: every 0.2 s overshot that by 0.1 s on average, three times per worker start (preflight).
NEW_TOPIC_WAIT_SECONDS: Final = 10.0
NEW_TOPIC_POLL_SECONDS: Final = 0.025


async def ensure_topics(
    admin: AIOKafkaAdminClient,
    names: Iterable[str],
    *,
    partitions: int,
    replication: int,
    configs: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Create missing topics (with topic ``configs``); return the partition count of each."""
    names = list(names)
    existing = set(await admin.list_topics())
    missing = [
        NewTopic(
            name,
            num_partitions=partitions,
            replication_factor=replication,
            topic_configs=dict(configs or {}),
        )
        for name in names
        if name not in existing
    ]
    if missing:
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(missing)
    deadline = time.monotonic() + NEW_TOPIC_WAIT_SECONDS
    while True:
        described = await admin.describe_topics(names)
        counts = {item["topic"]: len(item["partitions"]) for item in described}
        if all(counts.get(name, 0) > 0 for name in names) or time.monotonic() > deadline:
            return counts
        await asyncio.sleep(NEW_TOPIC_POLL_SECONDS)
