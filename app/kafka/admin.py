"""Creating topics and waiting until the broker's metadata shows their partitions.

:func:`ensure_topics` is the start-up path (the worker's preflight, the replay
generation topic, the benchmarks' topics). ``shopstream replay`` creates the
topics it deleted with its own requests, since it must retry while their old
selves finish deleting, and then waits with :func:`wait_for_partitions` too.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

__all__ = ["ensure_topics", "wait_for_partitions"]

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
    return await wait_for_partitions(
        admin, names, lambda counts: all(counts.get(name, 0) > 0 for name in names)
    )


async def wait_for_partitions(
    admin: AIOKafkaAdminClient, names: list[str], ready: Callable[[dict[str, int]], bool]
) -> dict[str, int]:
    """Describe ``names`` until ``ready`` holds for their partition counts, or the wait ends.

    Returns the last counts (topic -> partitions); after :data:`NEW_TOPIC_WAIT_SECONDS`
    they are returned whatever they are, for the caller to judge.
    """
    deadline = time.monotonic() + NEW_TOPIC_WAIT_SECONDS
    while True:
        described = await admin.describe_topics(names)
        counts = {item["topic"]: len(item["partitions"]) for item in described}
        if ready(counts) or time.monotonic() > deadline:
            return counts
        await asyncio.sleep(NEW_TOPIC_POLL_SECONDS)
