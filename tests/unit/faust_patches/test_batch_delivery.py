"""Routed records reach their handler in batches, acked after it (:mod:`app.faust_patches.batch_delivery`).

The whole path (Faust's fetcher, the drain loop, a real broker) is proven by
the analytics integration tests (crash, two workers, scale-out, replay), which
run on the route; these pin the route's own rules.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP

from app import faust_patches
from app.faust_patches import fatal_stop
from app.faust_patches.batch_delivery import BatchRoute, RecordEvent
from app.kafka import fatal

CLICKS = TP("clickstream", 2)


class _Consumer:
    """The parts of Faust's consumer a route uses: in-flight tracking and acks."""

    def __init__(self) -> None:
        self._unacked_messages: set[Any] = set()
        self.seen_in: list[int] = []
        self.acked: list[int] = []

    def _on_message_in(self, tp: TP, offset: int, message: Any) -> None:
        self.seen_in.append(offset)

    def ack(self, message: Any) -> bool:
        self._unacked_messages.discard(message)
        self.acked.append(message.offset)
        return True


def _app(generation: int = 7, *, flowing: bool = True) -> Any:
    return SimpleNamespace(
        consumer=_Consumer(),
        consumer_generation_id=generation,
        flow_control=SimpleNamespace(is_active=lambda: flowing),
    )


class _Message(SimpleNamespace):
    """A fetched record (hashable by identity, as Faust's messages are)."""

    __hash__ = object.__hash__  # type: ignore[assignment]


def _message(offset: int, generation: int = 7) -> Any:
    return _Message(
        tp=CLICKS,
        topic=CLICKS.topic,
        partition=CLICKS.partition,
        offset=offset,
        key=b"s-1",
        value=b"{}",
        headers=[],
        generation_id=generation,
        tracked=False,
    )


def _route(app: Any, handler: Any) -> BatchRoute:
    return BatchRoute(app, "analytics", frozenset({CLICKS.topic}), handler)


async def test_the_batch_is_in_flight_while_handled_and_acked_after() -> None:
    app = _app()
    during: list[set[int]] = []

    async def handler(events: list[RecordEvent]) -> None:
        during.append({m.offset for m in app.consumer._unacked_messages})
        assert [(e.message.offset, e.key, e.value) for e in events] == [
            (10, b"s-1", b"{}"),
            (11, b"s-1", b"{}"),
        ]
        assert app.consumer.acked == []

    await _route(app, handler)._handle([_message(10), _message(11)])
    assert during == [{10, 11}]  # a rebalance's wait_empty waits for these
    assert app.consumer.acked == [10, 11]
    assert app.consumer._unacked_messages == set()


def test_records_of_an_older_generation_or_a_stopped_flow_are_dropped() -> None:
    batch = [_message(1, generation=6), _message(2), _message(3)]
    assert [m.offset for m in _route(_app(7), None).current(batch)] == [2, 3]
    assert _route(_app(7, flowing=False), None).current(batch) == []


async def test_a_handler_that_raises_stops_the_worker_and_acks_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    faust_patches.install(fatal)
    stops: list[str] = []
    monkeypatch.setattr(fatal_stop, "stop_worker", lambda reason, cause=None: stops.append(reason))
    app = _app()

    async def handler(events: list[RecordEvent]) -> None:
        raise RuntimeError("table write failed")

    handling = asyncio.create_task(_route(app, handler)._handle([_message(5)]))
    await asyncio.sleep(0.01)
    assert not handling.done()  # waits for the worker's stop, never returns
    handling.cancel()
    assert stops == ["batch handler analytics raised RuntimeError: table write failed"]
    assert app.consumer.acked == []


async def _until_delivered(route: BatchRoute, count: int) -> None:
    for _ in range(100):
        if route.delivered == count:
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"{route.delivered} of {count} records delivered")


async def test_waiting_batches_are_handled_together_in_order() -> None:
    app = _app()
    app.topics = SimpleNamespace(_topic_name_index={CLICKS.topic: {object()}})
    handled: list[list[int]] = []

    async def handler(events: list[RecordEvent]) -> None:
        handled.append([e.message.offset for e in events])

    route = _route(app, handler)
    running = asyncio.create_task(route.run())
    await route.queue.put([_message(1), _message(2)])
    await route.queue.put([_message(3)])  # both wait: the handler is behind
    await _until_delivered(route, 3)
    await route.queue.put([_message(4)])
    await _until_delivered(route, 4)
    running.cancel()
    assert handled == [[1, 2, 3], [4]]
    assert app.consumer.acked == [1, 2, 3, 4]


async def test_a_topic_other_agents_read_too_stops_the_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stops: list[str] = []
    monkeypatch.setattr(fatal_stop, "stop_worker", lambda reason, cause=None: stops.append(reason))
    app = _app()
    app.topics = SimpleNamespace(_topic_name_index={CLICKS.topic: {object(), object()}})
    await _route(app, None).run()
    assert stops == [
        "agent analytics is delivered in batches, but other agents read ['clickstream']"
    ]
