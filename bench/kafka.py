"""Kafka-side tools of the harness: topics, fast pre-loading, consumer-group progress.

Throughput is read from the outside, the way an operator would: the consumer
group's committed offsets against the topics' end offsets (lag). Nothing here
knows about ShopStream's internals beyond the topic names of DESIGN.md.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupCoordinatorNotAvailableError

from app.kafka.admin import NEW_TOPIC_WAIT_SECONDS, ensure_topics

__all__ = [
    "Drained",
    "GroupProgress",
    "create_topics",
    "delete_topics",
    "preload",
    "rate_from_marks",
    "reset_topics",
]

_SEND_CHUNK = 20_000


async def reset_topics(bootstrap: str, *, timeout: float = 60.0) -> None:
    """Delete every non-internal topic, so a run starts from empty topics and groups."""
    await delete_topics(bootstrap, None, timeout=timeout)


async def delete_topics(
    bootstrap: str, topics: Iterable[str] | None, *, timeout: float = 60.0
) -> None:
    """Delete these topics (None: every non-internal one) and wait until the broker lists none."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = [t for t in await admin.list_topics() if not t.startswith("__")]
        wanted = None if topics is None else set(topics)
        doomed = [t for t in existing if wanted is None or t in wanted]
        if doomed:
            await admin.delete_topics(doomed)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = set(doomed) & set(await admin.list_topics())
            if not left:
                return
            await asyncio.sleep(0.3)
        raise TimeoutError(f"topics not deleted after {timeout:g}s: {sorted(left)}")
    finally:
        await admin.close()


async def create_topics(
    bootstrap: str, topics: Iterable[str], partitions: int, *, compact: bool = False
) -> None:
    """Create topics (replication 1) and wait until their metadata answers."""
    names = list(topics)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        counts = await ensure_topics(
            admin,
            names,
            partitions=partitions,
            replication=1,
            configs={"cleanup.policy": "compact"} if compact else None,
        )
    finally:
        await admin.close()
    unseen = [name for name in names if not counts.get(name)]
    if unseen:
        raise TimeoutError(f"topics {unseen} not visible after {NEW_TOPIC_WAIT_SECONDS:g} s")


async def preload(bootstrap: str, records: Iterable[tuple[str, bytes | None, bytes]]) -> int:
    """Produce (topic, key, value) records as fast as the broker takes them; returns the count."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks=1,
        linger_ms=20,
        max_batch_size=512 * 1024,
        max_request_size=4 * 1024 * 1024,
    )
    await producer.start()
    count = 0
    try:
        pending: list[asyncio.Future[object]] = []
        for topic, key, value in records:
            pending.append(await producer.send(topic, value, key=key))
            count += 1
            if len(pending) >= _SEND_CHUNK:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        await producer.flush()
    finally:
        await producer.stop()
    return count


@dataclass(frozen=True, slots=True)
class Drained:
    """How a consumer group went through a pre-loaded backlog."""

    events: int  # input records processed between the two marks
    seconds: float  # first observed progress -> lag 0 on every watched topic
    total: int  # input records in the backlog

    @property
    def rate(self) -> float | None:
        return self.events / self.seconds if self.seconds > 0 and self.events > 0 else None


def rate_from_marks(
    marks: Sequence[tuple[float, int]], total: int, *, per_record: float = 1.0
) -> Drained:
    """Sustained rate between commit marks (see :meth:`GroupProgress.wait_drained`).

    ``marks`` count every committed record (input and internal topics) against
    ``total`` of them; ``per_record`` converts to input events (input / all).
    """
    mid = [mark for mark in marks if mark[1] < total]
    if len(mid) >= 2:
        (t0, c0), (t1, c1) = mid[0], mid[-1]
    elif len(marks) >= 2:
        (t0, c0), (t1, c1) = marks[0], marks[-1]
    else:
        return Drained(events=0, seconds=0.0, total=round(total * per_record))
    return Drained(
        events=round((c1 - c0) * per_record), seconds=t1 - t0, total=round(total * per_record)
    )


class GroupProgress:
    """Committed offsets of one consumer group against the end offsets of its topics."""

    def __init__(
        self,
        bootstrap: str,
        group: str,
        *,
        counted: Sequence[str],
        also_drained: Sequence[str] = (),
        partitions: int,
    ) -> None:
        self.bootstrap = bootstrap
        self.group = group
        self.counted = [TopicPartition(t, p) for t in counted for p in range(partitions)]
        self.others = [TopicPartition(t, p) for t in also_drained for p in range(partitions)]
        self.partitions = partitions
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def __aenter__(self) -> GroupProgress:
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await self._admin.start()
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap)
        await self._consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
        if self._admin is not None:
            await self._admin.close()

    def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._consumer is None:
            raise RuntimeError("GroupProgress is used outside its `async with` block")
        return self._admin, self._consumer

    async def sample(self) -> tuple[int, int, int]:
        """(committed on the counted topics, committed on all watched topics, total lag)."""
        admin, consumer = self._clients()
        offsets = await self._group_offsets(admin)
        watched = self.counted + self.others
        ends = await consumer.end_offsets(watched)
        committed = {tp: max(0, meta.offset) for tp, meta in offsets.items()}
        counted = sum(committed.get(tp, 0) for tp in self.counted)
        everything = sum(committed.get(tp, 0) for tp in watched)
        lag = sum(max(0, ends[tp] - committed.get(tp, 0)) for tp in watched)
        return counted, everything, lag

    async def _wait_for_topics(self, deadline: float) -> None:
        """Wait until the worker's preflight created the watched internal topics.

        The sampler starts with the worker; asking for the end offsets of a topic
        that does not exist yet makes aiokafka log an ERROR per topic, which reads
        like a failed run. It lists topics rather than describing them
        (``app.kafka.admin.wait_for_partitions``): aiokafka's describe is a metadata
        request that allows auto-creation, and the local broker would create a
        missing topic itself, with default configs, before the worker's preflight.
        """
        admin, _ = self._clients()
        wanted = {tp.topic for tp in self.counted + self.others}
        while not wanted <= set(await admin.list_topics()) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)

    async def _group_offsets(self, admin: AIOKafkaAdminClient) -> dict[TopicPartition, Any]:
        """The group's committed offsets; on a fresh broker the coordinator needs a moment."""
        deadline = time.monotonic() + 30
        while True:
            try:
                return dict(await admin.list_consumer_group_offsets(self.group))
            except GroupCoordinatorNotAvailableError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    async def produced(self, topic: str) -> int:
        """Records in ``topic`` now (its end offsets): a worker's output, seen as it is sent,
        not a commit interval later as the committed offsets are."""
        _, consumer = self._clients()
        tps = [TopicPartition(topic, p) for p in range(self.partitions)]
        return sum((await consumer.end_offsets(tps)).values())

    async def total(self) -> int:
        _, consumer = self._clients()
        ends = await consumer.end_offsets(self.counted)
        return sum(ends.values())

    async def wait_drained(
        self, *, timeout: float, interval: float = 0.1, stable_polls: int = 2
    ) -> Drained:
        """Wait for lag 0 and time the sustained rate between commits seen mid-run.

        A worker commits every few seconds (Faust: 2.8 s), so each change of the
        committed offsets marks "processed up to here, now". Marks count the
        records of every watched topic (internal topics too: their records are
        part of the job); the rate is taken between the first and the last mark
        before everything is done, then expressed in input events (times input
        records / all records). Start-up, recovery and the wait for the final
        commit are excluded. With fewer than two such marks it falls back to
        first mark -> final commit. Lag must hold at 0 for ``stable_polls`` polls.
        """
        deadline = time.monotonic() + timeout
        await self._wait_for_topics(deadline)
        total = await self.total()
        _, previous, _ = await self.sample()
        marks: list[tuple[float, int]] = []
        zero_polls = 0
        counted = lag = 0
        while time.monotonic() < deadline:
            counted, everything, lag = await self.sample()
            now = time.monotonic()
            if everything != previous:
                previous = everything
                marks.append((now, everything))
            if lag == 0 and counted >= total:
                zero_polls += 1
                if zero_polls >= stable_polls:
                    per_record = total / everything if everything else 1.0
                    return rate_from_marks(marks, everything, per_record=per_record)
            else:
                zero_polls = 0
            await asyncio.sleep(interval)
        raise TimeoutError(
            f"group {self.group} not drained after {timeout:g}s (committed {counted}/{total}, lag {lag})"
        )
