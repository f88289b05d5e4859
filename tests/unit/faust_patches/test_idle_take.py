"""A stream's ``take_events`` sleeps while it has nothing (:mod:`app.faust_patches.idle_take`).

Fails unpatched: Faust's ``take_events`` wakes every ``within`` (about 20 times
in the first test's 0.2 s of silence). The batches themselves are Faust's: at
most ``max_`` values, the first value never waits past ``within`` for more.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import faust
import pytest
from faust.streams import Stream

from app import faust_patches
from app.kafka import fatal

WITHIN = 0.01


@pytest.fixture
def wakeups(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The streams' waits (each wake-up of ``take_events`` is one ``wait_first``)."""
    faust_patches.install(fatal)
    seen: list[float] = []
    original = Stream.wait_first

    async def counted(self: Stream[Any], *args: Any, **kwargs: Any) -> Any:
        seen.append(asyncio.get_running_loop().time())
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(Stream, "wait_first", counted)
    yield seen


def _batching_agent(batches: list[list[int]]) -> Any:
    app = faust.App("idle-take-test", store="memory://")

    @app.agent()
    async def take(stream: Any) -> None:
        async for events in stream.take_events(3, within=WITHIN):
            batches.append([event.value for event in events])

    return take


async def test_a_stream_with_nothing_to_take_does_not_wake(wakeups: list[float]) -> None:
    agent = _batching_agent([])
    async with agent.test_context():
        await asyncio.sleep(20 * WITHIN)
        assert len(wakeups) <= 2, f"{len(wakeups)} wake-ups of an empty stream in 0.2 s"


async def test_values_come_in_batches_of_at_most_max_and_never_wait_for_more(
    wakeups: list[float],
) -> None:
    batches: list[list[int]] = []
    agent = _batching_agent(batches)
    async with agent.test_context() as context:
        await context.put(1)
        await asyncio.sleep(5 * WITHIN)
        assert batches == [[1]]  # alone, it did not wait for two more
        for value in (2, 3, 4, 5):
            await context.put(value)
        await asyncio.sleep(5 * WITHIN)
    assert batches == [[1], [2, 3, 4], [5]]


async def test_a_stream_stopped_while_it_waits_for_its_first_value_ends(
    wakeups: list[float],
) -> None:
    agent = _batching_agent([])
    async with asyncio.timeout(5):
        async with agent.test_context():
            await asyncio.sleep(WITHIN)
