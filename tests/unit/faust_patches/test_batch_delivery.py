"""Routed records reach their handler in batches, acked after it (:mod:`app.faust_patches.batch_delivery`).

The whole path (Faust's fetcher, the drain loop, a real broker) is proven by
the analytics integration tests (crash, two workers, scale-out, replay), which
run on the route; these pin the route's own rules.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.types import TP
from faust.types.tuples import Message

from app import faust_patches
from app.faust_patches import batch_delivery, fatal_stop
from app.faust_patches.batch_delivery import BatchRoute, RoutedMessage, _ack_all, _take_routed
from app.kafka import fatal

CLICKS = TP("clickstream", 2)


class _Consumer:
    """The state of Faust's consumer a route touches: in-flight records and ack bookkeeping."""

    def __init__(self, committed: int | None = None) -> None:
        self.app = SimpleNamespace(topics=SimpleNamespace(acks_enabled_for=lambda topic: True))
        self._unacked_messages: set[Any] = set()
        self._committed_offset: dict[TP, int | None] = defaultdict(lambda: committed)
        self._acked_index: dict[TP, set[int]] = defaultdict(set)
        self._acked: dict[TP, list[int]] = defaultdict(list)
        self._n_acked = 0
        self._waiting_for_ack: asyncio.Future[None] | None = None
        self.seen_in: list[int] = []
        self.suspend_flow = asyncio.Event()

    async def wait_first(self, *awaitables: Any) -> None:
        """Mode's ``Service.wait_first``: until the first is done; the others are cancelled."""
        tasks = [asyncio.ensure_future(a) for a in awaitables]
        _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()

    def _on_message_in(self, tp: TP, offset: int, message: Any) -> None:
        self.seen_in.append(offset)

    @property
    def acked(self) -> list[int]:
        return self._acked[CLICKS]

    def state(self) -> tuple[Any, ...]:
        return (
            dict(self._acked),
            dict(self._acked_index),
            self._n_acked,
            sorted(m.offset for m in self._unacked_messages),
        )


def _app(generation: int = 7, *, flowing: bool = True) -> Any:
    return SimpleNamespace(
        consumer=_Consumer(),
        consumer_generation_id=generation,
        flow_control=SimpleNamespace(is_active=lambda: flowing),
    )


def _record(offset: int, timestamp: int | None = 1_764_662_400_123) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        CLICKS.topic,
        CLICKS.partition,
        offset,
        timestamp,
        0,
        b"s-1",
        b"{}",
        None,
        3,
        2,
        (("h", b"v"),),
    )


def _message(offset: int, generation: int = 7) -> RoutedMessage:
    return RoutedMessage(CLICKS, _record(offset), generation)


@pytest.fixture
def stops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The reasons the route stopped the worker for (the fatal stop, recorded instead)."""
    reasons: list[str] = []
    monkeypatch.setattr(
        fatal_stop, "stop_worker", lambda reason, cause=None: reasons.append(reason)
    )
    return reasons


def _route(app: Any, handler: Any) -> BatchRoute:
    return BatchRoute(app, "analytics", frozenset({CLICKS.topic}), handler)


async def test_the_batch_is_in_flight_while_handled_and_acked_after() -> None:
    app = _app()
    during: list[set[int]] = []

    async def handler(events: list[RoutedMessage]) -> None:
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


async def test_a_handler_that_raises_stops_the_worker_and_acks_nothing(stops: list[str]) -> None:
    faust_patches.install(fatal)
    app = _app()

    async def handler(events: list[RoutedMessage]) -> None:
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

    async def handler(events: list[RoutedMessage]) -> None:
        handled.append([e.message.offset for e in events])

    route = _route(app, handler)
    running = asyncio.create_task(route.run())
    route.enqueue([_message(1), _message(2)])
    route.enqueue([_message(3)])  # both wait: the handler is behind
    await _until_delivered(route, 3)
    route.enqueue([_message(4)])
    await _until_delivered(route, 4)
    running.cancel()
    assert handled == [[1, 2, 3], [4]]
    assert app.consumer.acked == [1, 2, 3, 4]


async def test_the_loop_gets_a_turn_between_waiting_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backlog on the queue does not hold the loop: timers, heartbeats, HTTP run between."""
    monkeypatch.setattr(batch_delivery, "MAX_BATCH", 2)
    app = _app()
    app.topics = SimpleNamespace(_topic_name_index={CLICKS.topic: {object()}})
    turns = 0
    seen: list[int] = []

    async def other_work() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    async def handler(events: list[RoutedMessage]) -> None:  # never waits
        seen.append(turns)

    route = _route(app, handler)
    for offset in range(6):
        route.enqueue([_message(offset)])  # three batches wait before the route starts
    ticking = asyncio.create_task(other_work())
    running = asyncio.create_task(route.run())
    await _until_delivered(route, 6)
    running.cancel()
    ticking.cancel()
    assert len(seen) == 3
    assert seen[0] < seen[1] < seen[2]


class _Pipeline:
    """A pipelined handler whose batches complete when the test resolves their futures."""

    def __init__(self) -> None:
        self.handled: list[list[int]] = []
        self.completions: list[asyncio.Future[None]] = []
        self.completed: list[int] = []

    async def __call__(self, events: Sequence[RoutedMessage]) -> Any:
        self.handled.append([e.message.offset for e in events])
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.completions.append(done)
        index = len(self.completions) - 1

        async def complete() -> None:
            await done
            self.completed.append(index)

        return complete

    async def until_handled(self, count: int) -> None:
        for _ in range(100):
            if len(self.handled) == count:
                return
            await asyncio.sleep(0.001)
        raise AssertionError(f"{len(self.handled)} of {count} batches handled")


def _pipelined_route(app: Any, handler: Any) -> BatchRoute:
    app.topics = SimpleNamespace(_topic_name_index={CLICKS.topic: {object()}})
    return BatchRoute(app, "order-lifecycle", frozenset({CLICKS.topic}), handler, pipelined=True)


async def test_a_pipelined_route_handles_the_next_batch_while_earlier_ones_complete() -> None:
    app = _app()
    pipeline = _Pipeline()
    route = _pipelined_route(app, pipeline)
    running = asyncio.create_task(route.run())
    route.enqueue([_message(1), _message(2)])
    await pipeline.until_handled(1)
    route.enqueue([_message(3)])
    await pipeline.until_handled(2)  # without waiting for the first completion
    assert app.consumer.acked == []
    assert {m.offset for m in app.consumer._unacked_messages} == {1, 2, 3}  # in flight

    first, second = pipeline.completions
    second.set_result(None)
    await asyncio.sleep(0.01)
    assert pipeline.completed == [] and app.consumer.acked == []  # completions go in order
    first.set_result(None)
    await _until_delivered(route, 3)
    running.cancel()
    assert pipeline.completed == [0, 1]
    assert app.consumer.acked == [1, 2, 3]


async def test_at_most_pipeline_depth_completions_wait() -> None:
    app = _app()
    pipeline = _Pipeline()
    route = _pipelined_route(app, pipeline)
    running = asyncio.create_task(route.run())
    depth = batch_delivery.PIPELINE_DEPTH
    for offset in range(depth + 3):
        route.enqueue([_message(offset)])
        await asyncio.sleep(0.005)
    # one completion awaited, PIPELINE_DEPTH waiting, and one handled batch waiting for room
    assert len(pipeline.handled) == depth + 2
    for done in pipeline.completions:
        done.set_result(None)
    await pipeline.until_handled(depth + 3)
    pipeline.completions[-1].set_result(None)
    await _until_delivered(route, depth + 3)
    running.cancel()


async def test_a_completion_that_raises_stops_the_worker_and_no_later_batch_is_acked(
    stops: list[str],
) -> None:
    app = _app()
    pipeline = _Pipeline()
    route = _pipelined_route(app, pipeline)
    running = asyncio.create_task(route.run())
    route.enqueue([_message(1)])
    await pipeline.until_handled(1)
    route.enqueue([_message(2)])
    await pipeline.until_handled(2)
    first, second = pipeline.completions
    second.set_result(None)  # decided on the first batch's state: must not be stored alone
    first.set_exception(RuntimeError("NotEnoughReplicas"))
    await asyncio.sleep(0.02)
    assert stops == ["batch completion order-lifecycle raised RuntimeError: NotEnoughReplicas"]
    route.enqueue([_message(3)])  # not decided: its outputs would follow the failed ones
    await asyncio.sleep(0.02)
    assert pipeline.handled == [[1], [2]]
    assert pipeline.completed == []
    assert app.consumer.acked == []
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running


async def test_a_topic_other_agents_read_too_stops_the_worker(
    stops: list[str],
) -> None:
    app = _app()
    app.topics = SimpleNamespace(_topic_name_index={CLICKS.topic: {object(), object()}})
    await _route(app, None).run()
    assert stops == [
        "agent analytics is delivered in batches, but other agents read ['clickstream']"
    ]


ORDERS = TP("orders", 2)


def _urgent_and_analytics(
    app: Any, orders_handler: Any
) -> tuple[BatchRoute, BatchRoute, list[str]]:
    """An analytics route and an urgent order route, registered in that order."""
    app.topics = SimpleNamespace(
        _topic_name_index={CLICKS.topic: {object()}, ORDERS.topic: {object()}}
    )
    ran: list[str] = []

    async def handler(events: Sequence[RoutedMessage]) -> None:
        ran.append(events[0].topic)

    analytics = BatchRoute(app, "analytics", frozenset({CLICKS.topic}), handler)
    lifecycle = BatchRoute(
        app, "order-lifecycle", frozenset({ORDERS.topic}), orders_handler(ran), urgent=True
    )
    return analytics, lifecycle, ran


def _deciding_forever(ran: list[str]) -> Any:
    """An order handler that never returns (its batch is never decided)."""

    async def handle(events: Sequence[RoutedMessage]) -> None:
        await asyncio.Event().wait()

    return handle


async def test_an_urgent_route_decides_its_batch_before_the_others_are_handed_theirs() -> None:
    """The order outputs reach the producer, and get turns to be sent, before analytics runs."""
    app = _app()
    queued_meanwhile: list[int] = []

    def orders_handler(ran: list[str]) -> Any:
        async def handle(events: Sequence[RoutedMessage]) -> None:
            await asyncio.sleep(0.01)  # a handler that awaits: the fetcher still waits
            queued_meanwhile.append(analytics.queued)
            ran.append(events[0].topic)

        return handle

    analytics, lifecycle, ran = _urgent_and_analytics(app, orders_handler)
    app.consumer.highwater = {ORDERS: 2}.get  # offset 1 is the last: a live load
    routes = batch_delivery.delivery_order([analytics, lifecycle, analytics])
    assert routes == [lifecycle, analytics]
    running = [asyncio.create_task(route.run()) for route in routes]
    analytics.pending = [_message(1)]
    lifecycle.pending = [RoutedMessage(ORDERS, _record(1), 7)]
    await batch_delivery._deliver(app.consumer, routes)
    assert ran == ["orders"] and queued_meanwhile == [0]  # analytics not yet handed its batch
    await _until_delivered(analytics, 1)
    for task in running:
        task.cancel()
    assert ran == ["orders", "clickstream"]


async def test_the_fetcher_stops_waiting_for_an_urgent_route_when_the_flow_stops() -> None:
    app = _app()
    _, lifecycle, _ = _urgent_and_analytics(app, _deciding_forever)
    app.consumer.highwater = {ORDERS: 2}.get
    running = asyncio.create_task(lifecycle.run())
    lifecycle.pending = [RoutedMessage(ORDERS, _record(1), 7)]
    delivering = asyncio.create_task(batch_delivery._deliver(app.consumer, [lifecycle]))
    await asyncio.sleep(0.01)
    assert not delivering.done()
    app.consumer.suspend_flow.set()  # a rebalance began
    await asyncio.wait_for(delivering, 1)
    running.cancel()


async def test_an_urgent_route_behind_its_partitions_end_does_not_hold_the_fetcher() -> None:
    """In a backlog the fetcher hands every route its batch without waiting for the orders.

    Waiting for the order handler at each fetch halved the order backlog's drain.
    """
    app = _app()
    analytics, lifecycle, _ = _urgent_and_analytics(app, _deciding_forever)
    app.consumer.highwater = {ORDERS: 5000}.get  # offset 1 of 5,000: a backlog
    running = asyncio.create_task(lifecycle.run())
    lifecycle.pending = [RoutedMessage(ORDERS, _record(1), 7)]
    analytics.pending = [_message(1)]
    await asyncio.wait_for(batch_delivery._deliver(app.consumer, [lifecycle, analytics]), 1)
    assert analytics.queued == 1
    running.cancel()


def test_acking_a_batch_keeps_fausts_books_as_acking_each_record() -> None:
    """Same lists, indexes, count and in-flight set as Faust's own ``Consumer.ack``."""
    for committed in (None, 12):  # 11 is behind the committed offset: not recorded
        batch = [_message(offset) for offset in (11, 12, 13, 13)]
        faust_way, batch_way = _Consumer(committed), _Consumer(committed)
        faust_way._unacked_messages.update(batch)
        batch_way._unacked_messages.update(batch)
        for message in batch:
            Consumer.ack(faust_way, message)  # type: ignore[arg-type]
        for message in batch:
            message.acked = False
        _ack_all(batch_way, batch)  # type: ignore[arg-type]
        assert batch_way.state() == faust_way.state()
        assert all(m.acked for m in batch)


async def test_work_waiting_for_the_commit_is_done_once_the_route_caught_up() -> None:
    app = _app()
    highwater = {CLICKS: 12}
    app.consumer.highwater = highwater.get
    done: list[int] = []

    async def handler(events: Sequence[RoutedMessage]) -> None:
        return None

    async def work() -> None:
        done.append(1)

    route = BatchRoute(app, "analytics", frozenset({CLICKS.topic}), handler, work)
    await route._handle([_message(10)])  # 11 and beyond are still to come
    assert done == []
    await route._handle([_message(11)])  # the end of the partition
    assert done == [1]
    await route._handle([_message(12)])  # caught up again, but too soon after
    assert done == [1]
    route._last_caught_up -= batch_delivery.CAUGHT_UP_INTERVAL_SECONDS
    route.enqueue([_message(14)])  # more is waiting: not idle
    highwater[CLICKS] = 14
    await route._handle([_message(13)])
    assert done == [1]


def test_a_routed_message_has_every_field_fausts_consumer_message_has() -> None:
    for timestamp in (1_764_662_400_123, None):
        record = _record(41, timestamp)
        consumer = SimpleNamespace(app=SimpleNamespace(consumer_generation_id=7))
        fausts = AIOKafkaConsumer._to_message(consumer, CLICKS, record)  # type: ignore[arg-type]
        routed = RoutedMessage(CLICKS, record, 7)
        for slot in Message.__slots__:
            if slot not in ("span", "__weakref__"):  # never set by Faust's constructor either
                assert getattr(routed, slot) == getattr(fausts, slot), slot
        assert type(fausts).on_final_ack is type(routed).on_final_ack
        assert routed.message is routed


class _Fetching(_Consumer):
    """What the drain loop reads of Faust's consumer while it takes a routed partition."""

    def __init__(self, app: Any) -> None:
        super().__init__()
        self.app = app
        self.flow_active = True
        self._read_offset: dict[TP, int | None] = defaultdict(lambda: None)
        self._buffered_partitions: set[TP] = set()
        self._commit_every: int | None = None
        self.gaps: list[tuple[TP, int, int]] = []
        self.log = SimpleNamespace(dev=lambda *args: None)

    def highwater(self, tp: TP) -> int:
        return 100

    async def _add_gap(self, tp: TP, start: int, end: int) -> None:
        self.gaps.append((tp, start, end))
        if self.app.on_gap is not None:
            self.app.on_gap()


def _fetching(monkeypatch: pytest.MonkeyPatch) -> tuple[_Fetching, BatchRoute]:
    app = SimpleNamespace(
        consumer_generation_id=7,
        topics=SimpleNamespace(acks_enabled_for=lambda topic: True),
        monitor=SimpleNamespace(track_tp_end_offset=lambda tp, offset: None),
        on_gap=None,
    )
    route = BatchRoute(app, "analytics", frozenset({CLICKS.topic}), None)  # type: ignore[arg-type]
    monkeypatch.setitem(batch_delivery._routes_by_topic, CLICKS.topic, route)
    return _Fetching(app), route


async def test_a_routed_partition_is_taken_with_fausts_offset_books(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    consumer, route = _fetching(monkeypatch)
    consumer._read_offset[CLICKS] = 6
    records = [_record(offset) for offset in (5, 6, 7, 9)]  # 5 was read; 8 is a gap
    assert await _take_routed(consumer, CLICKS, records, 7, {CLICKS})  # type: ignore[arg-type]
    assert [(m.offset, m.generation_id) for m in route.pending] == [(6, 7), (7, 7), (9, 7)]
    assert consumer._read_offset[CLICKS] == 9
    assert consumer.gaps == [(CLICKS, 8, 9)]


async def test_a_partition_neither_active_nor_buffered_is_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    consumer, route = _fetching(monkeypatch)
    assert await _take_routed(consumer, CLICKS, [_record(1)], 7, set())  # type: ignore[arg-type]
    assert route.pending == []
    consumer._buffered_partitions.add(CLICKS)
    assert await _take_routed(consumer, CLICKS, [_record(1)], 7, set())  # type: ignore[arg-type]
    assert [m.offset for m in route.pending] == [1]


async def test_taking_stops_when_the_generation_changes_during_an_await(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    consumer, route = _fetching(monkeypatch)
    consumer._read_offset[CLICKS] = 1

    def rebalanced() -> None:
        consumer.app.consumer_generation_id = 8

    consumer.app.on_gap = rebalanced
    records = [_record(offset) for offset in (2, 4, 5)]
    assert not await _take_routed(consumer, CLICKS, records, 7, {CLICKS})  # type: ignore[arg-type]
    assert [m.offset for m in route.pending] == [2]  # 4 came after the gap's await: not taken
    assert consumer._read_offset[CLICKS] == 2


async def test_the_fetcher_waits_for_room_counted_in_records_not_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(batch_delivery, "QUEUED_RECORDS", 3)
    route = _route(_app(), None)
    route.enqueue([_message(1)])
    route.enqueue([_message(2)])  # two small batches leave room: a waiting handler stalls nobody
    assert route.has_room()
    route.enqueue([_message(3), _message(4)])
    assert not route.has_room()
    waiting = asyncio.create_task(route.wait_for_room())
    await asyncio.sleep(0)
    assert not waiting.done()
    assert [m.offset for m in await route._take()] == [1, 2, 3, 4]  # all that waited, at once
    await asyncio.wait_for(waiting, 1)
    assert route.queued == 0
