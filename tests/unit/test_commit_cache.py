"""The commit cache: rows written once per key, on commit, early when full, dropped when revoked.

The table here is a stand-in that records each write and the event Faust
would see as current (a Table routes a write to that event's partition);
the fault tests (tests/integration) run the real thing against a broker.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from faust.streams import current_event
from faust.types import TP

from tables.commit_cache import CommitCache, CommitCacheSensor, KeyedRows


@dataclass
class RecordingTable:
    """Records ``(partition of the current event, key, value)`` per write; None = delete."""

    name: str = "t"
    data: dict[Any, Any] = field(default_factory=dict)
    writes: list[tuple[int, Any, Any]] = field(default_factory=list)

    def _partition(self) -> int:
        event = current_event()
        assert event is not None, "a table write needs a current event"
        return int(event.message.partition)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.writes.append((self._partition(), key, value))
        self.data[key] = value

    def __delitem__(self, key: Any) -> None:
        self.writes.append((self._partition(), key, None))
        self.data.pop(key, None)

    def get(self, key: Any, default: Any = None) -> Any:
        return self.data.get(key, default)


@dataclass
class Message:
    topic: str
    partition: int


@dataclass
class Event:
    message: Message


def event(partition: int, topic: str = "in") -> Any:
    return Event(Message(topic, partition))


def keyed_cache(max_rows: int = 100) -> tuple[RecordingTable, CommitCache[KeyedRows]]:
    table = RecordingTable()
    cache: CommitCache[KeyedRows] = CommitCache(
        table,  # type: ignore[arg-type]
        lambda partition: KeyedRows(table, partition),  # type: ignore[arg-type]
        max_rows=max_rows,
    )
    return table, cache


def test_each_key_is_written_once_with_its_last_value_on_the_partition_of_its_events() -> None:
    table, cache = keyed_cache()
    for value in range(5):
        cache.rows(event(1)).put("a", value)
    cache.rows(event(2)).put("b", "x")
    cache.rows(event(2)).delete("c")
    assert table.writes == []
    cache.write_all()
    assert sorted(table.writes) == [(1, "a", 4), (2, "b", "x"), (2, "c", None)]
    assert cache.pending() == 0
    cache.write_all()
    assert len(table.writes) == 3, "nothing is written twice"


def test_reads_see_the_pending_rows_before_they_are_written() -> None:
    table, cache = keyed_cache()
    table.data.update(a=1, b=2)
    rows = cache.rows(event(0))
    rows.put("a", 10)
    rows.delete("b")
    assert (rows.get("a"), rows.get("b"), rows.get("b", "gone")) == (10, None, "gone")
    assert cache.peek(0) is rows
    assert cache.peek(3) is None
    with pytest.raises(ValueError):
        rows.put("a", None)


class CountingTable(RecordingTable):
    """Counts the lookups of stored rows."""

    lookups: int = 0

    def get(self, key: Any, default: Any = None) -> Any:
        self.lookups += 1
        return super().get(key, default)


def test_rows_read_or_written_are_read_again_without_a_lookup_or_a_decode() -> None:
    table = CountingTable()
    table.data.update(a=1)
    decoded: list[Any] = []

    def decode(value: Any) -> Any:
        decoded.append(value)
        return value

    cache: CommitCache[KeyedRows] = CommitCache(
        table,  # type: ignore[arg-type]
        lambda partition: KeyedRows(table, partition, decode=decode),  # type: ignore[arg-type]
    )
    rows = cache.rows(event(0))
    assert (rows.get("a"), rows.get("missing")) == (1, None)
    rows.put("b", 2)
    cache.write_all()
    assert (rows.get("a"), rows.get("missing"), rows.get("b")) == (1, None, 2)
    assert (table.lookups, decoded) == (2, [1]), "each key looked up and decoded once"
    cache.rows(event(0)).delete("a")
    cache.write_all()
    assert rows.get("a") is None and table.lookups == 2, "a delete is remembered too"


def test_the_rows_remembered_are_bounded_and_forgotten_with_a_revoked_partition() -> None:
    table = CountingTable()
    table.data.update({key: key for key in range(5)})
    cache: CommitCache[KeyedRows] = CommitCache(
        table,  # type: ignore[arg-type]
        lambda partition: KeyedRows(table, partition, max_clean=3),  # type: ignore[arg-type]
    )
    rows = cache.rows(event(0))
    for key in range(5):
        rows.get(key)
    assert table.lookups == 5
    rows.get(4)
    rows.get(2)
    assert table.lookups == 5, "the last three are remembered"
    rows.get(0)
    assert table.lookups == 6, "the oldest were forgotten"
    cache.revoked({TP("in", 0)})
    cache.rows(event(0)).get(4)
    assert table.lookups == 7, "a partition given back starts from the store"


def test_the_size_cap_writes_everything_early() -> None:
    table, cache = keyed_cache(max_rows=3)
    cache.rows(event(0)).put("a", 1)
    cache.rows(event(1)).put("b", 1)
    assert not cache.write_if_full()
    cache.rows(event(1)).put("c", 1)
    assert cache.write_if_full()
    assert len(table.writes) == 3
    assert cache.pending() == 0


def test_one_partition_can_be_written_alone() -> None:
    table, cache = keyed_cache()
    cache.rows(event(0)).put("a", 1)
    cache.rows(event(1)).put("b", 1)
    cache.write(1)
    assert table.writes == [(1, "b", 1)]
    assert cache.pending() == 1


def test_revoked_partitions_are_dropped_unwritten_the_others_are_kept() -> None:
    table, cache = keyed_cache()
    cache.rows(event(0, "clicks")).put("a", 1)
    cache.rows(event(1, "clicks")).put("b", 1)
    cache.rows(event(2, "purchases")).put("c", 1)
    cache.revoked({TP("clicks", 1), TP("purchases", 0), TP("other", 2)})
    assert cache.peek(1) is None
    assert cache.peek(0) is not None, "partition 0 was fed by clicks 0, not revoked"
    assert cache.peek(2) is not None
    cache.write_all()
    assert sorted(table.writes) == [(0, "a", 1), (2, "c", 1)]


def test_the_sensor_writes_every_cache_when_a_commit_starts() -> None:
    first_table, first = keyed_cache()
    second_table, second = keyed_cache()
    first.rows(event(0)).put("a", 1)
    second.rows(event(3)).put("b", 2)
    sensor = CommitCacheSensor([first, second])
    sensor.on_commit_initiated(consumer=None)  # type: ignore[arg-type]
    assert first_table.writes == [(0, "a", 1)]
    assert second_table.writes == [(3, "b", 2)]


def test_the_analytics_agent_installs_its_cache_on_the_commit_path() -> None:
    import agents.analytics  # noqa: F401  (installs the cache)
    from app.main import app
    from tables.analytics import analytics_cache

    sensors = [s for s in app.sensors if isinstance(s, CommitCacheSensor)]
    assert sum(analytics_cache in s.caches for s in sensors) == 1


async def test_written_in_parts_each_partition_whole_and_other_tasks_run_in_between() -> None:
    table, cache = keyed_cache()
    for partition in (0, 1, 2):
        cache.rows(event(partition)).put("a", partition)
        cache.rows(event(partition)).put("b", partition)
    seen: list[int] = []  # rows written when another task got a turn

    async def other_task() -> None:
        for _ in range(3):
            seen.append(len(table.writes))
            await asyncio.sleep(0)

    other = asyncio.create_task(other_task())
    await cache.write_all_in_parts()
    await other
    assert sorted(table.writes) == sorted((p, k, p) for p in (0, 1, 2) for k in "ab")
    assert seen == [2, 4, 6]  # a partition's two rows at a time, never one without the other
    assert cache.pending() == 0


async def test_a_partition_revoked_while_written_in_parts_is_not_written() -> None:
    table, cache = keyed_cache()
    for partition in (0, 1):
        cache.rows(event(partition)).put("a", partition)

    async def revoke_partition_1() -> None:
        cache.revoked({TP("in", 1)})

    revoking = asyncio.create_task(revoke_partition_1())
    await cache.write_all_in_parts()
    await revoking
    assert table.writes == [(0, "a", 0)]
