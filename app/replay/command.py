"""``shopstream replay``: rebuild all derived state from the input topics.

The steps, in the order that keeps an interrupted replay safe to run again:

1. refuse while the consumer group (the app id) has live members;
2. plan (:mod:`app.replay.plan`): input offsets to restart from (log start, or
   the first record produced at or after ``--from``), the internal topics and
   changelogs to clear, the group's other offsets to keep;
3. record a new replay generation (:mod:`app.replay.generation`) *first*: from
   then on every worker wipes its local table stores at start, wherever its
   data directory is, so no stale store survives even if a later step fails;
4. delete the internal topics and changelogs, wait until the broker no longer
   lists them, and re-create them empty with the same partitions, replication
   and topic settings (``cleanup.policy=compact`` of changelogs), so a worker
   starts on them as on any restart (a changelog Faust had to create itself
   while running showed "0 partitions" and crashed its table's agent);
5. delete the consumer group (refused by the broker if a worker joined
   meanwhile) and commit the restart offsets, plus the kept ones.

Input topics and the output topics (``order-status``, ``alerts``,
``dead-letters``) are never written to. :func:`follow_rebuild` then reports
progress until the workers, started by the operator, have caught up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.protocol.admin import DeleteGroupsRequest

from app.kafka import topic_names
from app.kafka.admin import wait_for_partitions
from app.kafka.preflight import check_broker
from app.replay.generation import ensure_generation_topic, read_generation, write_generation
from app.replay.plan import (
    GroupMember,
    Partition,
    Progress,
    ReplayError,
    ReplayPlan,
    measure_progress,
    plan_replay,
    topics_to_clear,
)
from app.settings import Settings
from domain.timefmt import format_time, now_utc, to_millis

__all__ = ["execute_replay", "follow_rebuild", "prepare_replay"]

_UNKNOWN_TOPIC = 3
_TOPIC_ALREADY_EXISTS = 36
_NON_EMPTY_GROUP = 68
_GROUP_ID_NOT_FOUND = 69
_DYNAMIC_TOPIC_CONFIG = 1
_DELETION_TIMEOUT_SECONDS = 60.0


def _tp(partition: Partition) -> TopicPartition:
    return TopicPartition(*partition)


async def group_members(admin: AIOKafkaAdminClient, group: str) -> list[GroupMember]:
    """Live members of ``group`` (an unknown or empty group has none)."""
    members: list[GroupMember] = []
    for response in await admin.describe_consumer_groups([group]):
        for described in response.to_object()["groups"]:
            members.extend(
                GroupMember(m["member_id"], m["client_id"], m["client_host"])
                for m in described["members"]
            )
    return members


async def _partition_counts(admin: AIOKafkaAdminClient, topics: Iterable[str]) -> dict[str, int]:
    described = await admin.describe_topics(list(topics))
    return {item["topic"]: len(item["partitions"]) for item in described}


async def _start_offsets(
    bootstrap: str, tps: list[TopicPartition], since: datetime | None
) -> tuple[dict[Partition, int], dict[Partition, int]]:
    """(first offset to replay, end offset) per input partition."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(tps)
        if since is None:
            starts = await consumer.beginning_offsets(tps)
        else:
            found = await consumer.offsets_for_times({tp: to_millis(since) for tp in tps})
            starts = {tp: ends[tp] if hit is None else hit.offset for tp, hit in found.items()}
    finally:
        await consumer.stop()
    return (
        {(tp.topic, tp.partition): offset for tp, offset in starts.items()},
        {(tp.topic, tp.partition): offset for tp, offset in ends.items()},
    )


async def prepare_replay(
    settings: Settings, bootstrap: str, since: datetime | None, changelogs: Iterable[str]
) -> tuple[ReplayPlan, list[GroupMember]]:
    """Ask the broker what a replay needs; returns the plan and the group's live members."""
    group, changelogs = settings.app_id, tuple(changelogs)
    admin = await check_broker(bootstrap, timeout=settings.broker_timeout)
    try:
        members = await group_members(admin, group)
        await ensure_generation_topic(admin, group, settings.replication_factor)
        existing = set(await admin.list_topics())
        absent = [t for t in topic_names.INPUT_TOPICS if t not in existing]
        if absent:
            raise ReplayError(f"input topic(s) {', '.join(absent)} do not exist on {bootstrap}")
        counts = await _partition_counts(admin, topic_names.INPUT_TOPICS)
        committed = {
            (tp.topic, tp.partition): meta.offset
            for tp, meta in (await admin.list_consumer_group_offsets(group)).items()
        }
    finally:
        await admin.close()
    tps = [TopicPartition(t, p) for t, n in counts.items() for p in range(n)]
    starts, ends = await _start_offsets(bootstrap, tps, since)
    previous = await read_generation(bootstrap, group)
    plan = plan_replay(
        group=group,
        since=since,
        previous_generation=None if previous is None else int(previous["generation"]),
        start_offsets=starts,
        end_offsets=ends,
        committed=committed,
        clear=topics_to_clear(group, existing, changelogs),
        changelogs=changelogs,
    )
    return plan, members


def _offsets_json(offsets: dict[Partition, int]) -> dict[str, int]:
    return {f"{topic}:{partition}": offset for (topic, partition), offset in offsets.items()}


def generation_record(plan: ReplayPlan) -> dict[str, Any]:
    """What the generation topic keeps about a replay (enough to follow it later)."""
    return {
        "generation": plan.generation,
        "replayed_at": format_time(now_utc()),
        "from": None if plan.since is None else format_time(plan.since),
        "start_offsets": _offsets_json(dict(plan.start_offsets)),
        "target_offsets": _offsets_json(dict(plan.target_offsets)),
        "cleared_topics": list(plan.topics_to_clear),
    }


async def _delete_topics(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Delete topics and wait until the broker's metadata no longer lists them."""
    if not names:
        return
    response = (await admin.delete_topics(names)).to_object()
    for result in response.get("topic_error_codes", []):
        if result["error_code"] not in (0, _UNKNOWN_TOPIC):
            raise ReplayError(
                f"cannot delete topic {result['topic']}: error {result['error_code']}"
            )
    deadline = time.monotonic() + _DELETION_TIMEOUT_SECONDS
    while set(names) & set(await admin.list_topics()):
        if time.monotonic() > deadline:
            raise ReplayError(f"topics {names} still listed after deletion; run replay again")
        await asyncio.sleep(0.2)


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a topic is re-created with: its partitions, replication and own settings."""

    partitions: int
    replication: int
    configs: dict[str, str]


async def _shapes(admin: AIOKafkaAdminClient, names: Iterable[str]) -> dict[str, _Shape]:
    """Partitions, replication and topic-level settings (e.g. ``cleanup.policy``) of topics."""
    names = list(names)
    if not names:
        return {}
    configs: dict[str, dict[str, str]] = {name: {} for name in names}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    for response in await admin.describe_configs(resources):
        for resource in response.to_object()["resources"]:
            for entry in resource["config_entries"]:
                own = entry.get("config_source") == _DYNAMIC_TOPIC_CONFIG or (
                    entry.get("is_default") is False and not entry.get("read_only")
                )
                if own and entry["config_value"] is not None:
                    configs[resource["resource_name"]][entry["config_names"]] = entry[
                        "config_value"
                    ]
    shapes = {}
    for item in await admin.describe_topics(names):
        partitions = item["partitions"]
        shapes[item["topic"]] = _Shape(
            len(partitions), len(partitions[0]["replicas"]), configs[item["topic"]]
        )
    return shapes


async def _create_topics(admin: AIOKafkaAdminClient, wanted: dict[str, _Shape]) -> None:
    """Create topics as described, retrying while their old selves finish deleting."""
    pending = dict(wanted)
    deadline = time.monotonic() + _DELETION_TIMEOUT_SECONDS
    while pending:
        topics = [
            NewTopic(
                name,
                num_partitions=shape.partitions,
                replication_factor=shape.replication,
                topic_configs=shape.configs,
            )
            for name, shape in pending.items()
        ]
        response = (await admin.create_topics(topics)).to_object()
        for result in response.get("topic_errors", []):
            code = result["error_code"]
            if code == 0:
                pending.pop(result["topic"], None)
            elif code != _TOPIC_ALREADY_EXISTS:
                raise ReplayError(f"cannot re-create topic {result['topic']}: error {code}")
        if pending and time.monotonic() > deadline:
            raise ReplayError(f"cannot re-create {sorted(pending)}: still being deleted")
        if pending:
            await asyncio.sleep(0.5)

    def shown(counts: dict[str, int]) -> bool:
        return all(counts.get(name) == shape.partitions for name, shape in wanted.items())

    if not shown(await wait_for_partitions(admin, list(wanted), shown)):
        raise ReplayError(
            f"re-created topics {sorted(wanted)} show no partitions yet; run replay again"
        )


async def _delete_group(admin: AIOKafkaAdminClient, group: str) -> None:
    coordinator = await admin.find_coordinator(group)
    response = await admin._client.send(coordinator, DeleteGroupsRequest([group]))
    for result in response.to_object()["results"]:
        code = result["error_code"]
        if code == _NON_EMPTY_GROUP:
            raise ReplayError(
                f"a worker joined consumer group {group!r} during the replay; "
                "stop every worker and run replay again"
            )
        if code not in (0, _GROUP_ID_NOT_FOUND):
            raise ReplayError(f"cannot delete consumer group {group!r}: error {code}")


async def _commit(bootstrap: str, group: str, offsets: dict[Partition, int]) -> None:
    """Commit offsets for an empty group, without joining it (manual assignment)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([_tp(p) for p in offsets])
        await consumer.commit({_tp(p): offset for p, offset in offsets.items()})
    finally:
        await consumer.stop()


async def execute_replay(
    plan: ReplayPlan, settings: Settings, bootstrap: str, echo: Callable[[str], None]
) -> None:
    """Carry out a plan (see the module docstring for the order of the steps)."""
    admin = await check_broker(bootstrap, timeout=settings.broker_timeout)
    try:
        members = await group_members(admin, plan.group)
        if members:
            raise ReplayError(f"a worker joined consumer group {plan.group!r}; stop it first")
        await write_generation(bootstrap, plan.group, generation_record(plan))
        echo(f"recorded replay generation {plan.generation}: workers wipe older local stores")
        shapes = await _shapes(admin, plan.topics_to_clear)
        await _delete_topics(admin, list(plan.topics_to_clear))
        await _create_topics(admin, shapes)
        echo(
            f"deleted and re-created empty {len(shapes)} internal topic(s) and changelog(s): "
            + ", ".join(shapes)
        )
        await _delete_group(admin, plan.group)
    finally:
        await admin.close()
    await _commit(bootstrap, plan.group, plan.offsets_to_commit())
    echo(f"reset consumer group {plan.group!r}: {plan.records_to_replay} input records to replay")


async def _internal_offsets(
    bootstrap: str, topics: Iterable[str]
) -> tuple[dict[Partition, int], dict[Partition, int]]:
    """(beginning, end) offsets of the internal topics that exist now."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        counts = await _partition_counts(admin, [t for t in topics if t in existing])
    finally:
        await admin.close()
    tps = [TopicPartition(t, p) for t, n in counts.items() for p in range(n)]
    if not tps:
        return {}, {}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        starts, ends = await consumer.beginning_offsets(tps), await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    return (
        {(tp.topic, tp.partition): o for tp, o in starts.items()},
        {(tp.topic, tp.partition): o for tp, o in ends.items()},
    )


async def measure(plan: ReplayPlan, bootstrap: str) -> Progress:
    """One look at the group's progress through the replay."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = {
            (tp.topic, tp.partition): meta.offset
            for tp, meta in (await admin.list_consumer_group_offsets(plan.group)).items()
        }
    finally:
        await admin.close()
    starts, ends = await _internal_offsets(bootstrap, plan.agent_topics)
    return measure_progress(
        start_offsets=plan.start_offsets,
        target_offsets=plan.target_offsets,
        committed=committed,
        internal_ends=ends,
        internal_starts=starts,
    )


async def follow_rebuild(
    plan: ReplayPlan,
    bootstrap: str,
    on_progress: Callable[[Progress], None],
    *,
    interval: float = 1.0,
    timeout: float | None = None,
) -> Progress:
    """Report progress until the group has caught up; raises ReplayError after ``timeout``."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        progress = await measure(plan, bootstrap)
        on_progress(progress)
        if progress.caught_up:
            return progress
        if deadline is not None and time.monotonic() > deadline:
            raise ReplayError(f"not caught up after {timeout:g}s: {progress.line()}")
        await asyncio.sleep(interval)
