"""Speed-up: the records of chosen agents' topics reach their batch handler a fetch at a time.

Faust hands every record to an agent one by one: per record the fetcher runs
``wait_first(callback(message), suspend_flow.wait())`` (four tasks, three
futures), the conductor delivers it to a queue, and the stream takes it out
again with a ``sleep(0)``, sensor calls and an ack under a lock
(FAUST_NOTES, "The per-event path and the commit"). On this machine that path
alone caps a do-nothing agent at about 18,000 records/s, below what Quix
Streams does for a whole clickstream aggregation. An agent that processes its
records in batches anyway (``take_events``) gains nothing from it.

:func:`deliver_in_batches` routes the records of such an agent's topics
around that path: the fetcher collects them while it goes through a fetch
(read offsets and gaps bookkept as Faust does) and puts the whole batch on
the route's queue at the end of the fetch (every :data:`MAX_BATCH` records
at most); the route's task takes the batch, keeps what Faust's stream would
keep, tracks it as in flight, awaits the handler with the batch's events,
and acknowledges the records afterwards. So, as on Faust's path:

- a record is acknowledged only after its handler returned (an offset is
  committed only when every record before it is acknowledged);
- records fetched before a rebalance are dropped, not handled, once the
  consumer generation changed or flow stopped (Faust seeks back to the
  committed offsets of the partitions it is given again); records being
  handled are in flight, so the rebalance's ``wait_empty`` waits for them
  before it commits and the partitions are revoked;
- a handler that raises stops the worker through ``stop_worker`` (the fatal
  stop, :mod:`~app.faust_patches.fatal_stop`) before anything is acknowledged,
  instead of losing the record.

A *pipelined* route (the order pipeline's) splits a batch's handling in two:
the handler processes the batch and returns its completion (for the orders:
wait for the outputs' acknowledgements, then write the states), and the route
takes the next batch at once while a second task awaits the completions one
at a time, in the order the batches came, and acknowledges each batch's
records after its completion returned. So the next batch does not wait for a
produce round trip of the previous one, and the rules above hold per batch:
an offset is committed only after its batch's completion, and a completion
that raises stops the worker before that batch or any later one is
acknowledged. At most :data:`PIPELINE_DEPTH` completions wait.

An *urgent* route (the order pipeline's, whose outputs a shop waits for) is
handed its batch first at the end of each fetch, and the fetch's other
batches only once its handler returned (the outputs are with the producer)
and the producer had :data:`PRODUCER_TURNS` turns of the loop to put them on
the wire. Otherwise the urgent task ran first but the producer's sender task,
woken by the hand-over, was queued behind the analytics task, and the status
records waited for a whole batch of clicks to be applied (30-40 ms on a slow
host at half load). The fetcher waits for the urgent handler as it waits
for room on a queue: until the flow stops. It waits only for a batch that
reached the end of its partitions (a live load): in a backlog the wait
serialized the fetcher with the order handler, and 20,000 order events
drained at 1,600-2,000 orders/s instead of 3,300-4,600.

The agent itself stays: its topic subscription is what makes Faust fetch the
records, and it keeps the per-record path as the one the unit tests drive.
Another channel subscribed to one of the route's topics would starve, so
:func:`deliver_in_batches` refuses a topic any other agent reads.

``Consumer._drain_messages`` is replaced by a copy of faust-streaming 0.15.3's
(``transport/consumer.py:1170-1246``) with one change: a record of a routed
topic goes to the route's pending batch instead of ``callback(message)``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Final, NoReturn, cast

from faust.transport.consumer import CONSUMER_FETCHING, Consumer
from faust.types import TP, AgentT, AppT, Message
from faust.types.tuples import ConsumerMessage, ack_lock
from mode import Service
from mode.utils.futures import notify

from app.faust_patches import fatal_stop

__all__ = [
    "MAX_BATCH",
    "PIPELINE_DEPTH",
    "PRODUCER_TURNS",
    "BatchRoute",
    "Completion",
    "RoutedMessage",
    "deliver_in_batches",
    "delivery_order",
    "install",
    "reached_the_end",
]

#: Most records in one handed-over batch (a fetch can hold far more).
MAX_BATCH: Final = 2000
#: Records waiting for a route's handler before the fetcher waits for it (backpressure).
#: Counted in records, not batches: the order route's handler awaits its outputs'
#: acknowledgements, and a queue of two batches, filled with small ones while it waited,
#: stopped the fetching of every route (at half load, p50 produce -> order-status 2.6 s,
#: 75 ms with this bound; 80 ms with 40,000).
QUEUED_RECORDS: Final = 10_000
#: Shortest time between two calls of a route's ``when_caught_up`` work.
CAUGHT_UP_INTERVAL_SECONDS: Final = 0.25

#: Turns of the loop the producer gets after an urgent route decided a batch, before the
#: fetch's other batches are handed over: in aiokafka 0.14.0 a record batch handed over
#: completes the accumulator's waiter, ``asyncio.wait`` wakes the sender task, which starts a
#: task for the produce request, which writes it (``Sender._sender_routine``); a request
#: already in flight to the broker still delays it by its round trip.
PRODUCER_TURNS: Final = 4

#: Completions of a pipelined route's batches that may wait, besides the one being awaited.
#: Each holds its batch's records unacknowledged and, for the orders, their states in memory.
PIPELINE_DEPTH: Final = 4

#: Takes a batch's events (Faust events, or :class:`RoutedMessage` on a route). On a
#: pipelined route it returns the batch's :data:`Completion`.
BatchHandler = Callable[[Sequence[Any]], Awaitable[Any]]
#: What remains of a pipelined batch once its handler returned; awaited in the batches' order.
Completion = Callable[[], Awaitable[object]]


class RoutedMessage(ConsumerMessage):
    """A routed record: Faust's consumer message, built in one step, and its own event.

    Faust makes two objects per record on top of aiokafka's (its
    ``ConsumerMessage`` in ``Consumer._to_message``, then an ``Event`` in the
    stream); a route needs neither call nor the event: a handler reads an
    event's ``message``, ``key``, ``value`` and ``headers``, and this message
    has them all (``message`` is itself). The fields are those
    ``_to_message`` gives (a unit test compares every slot); the route, not
    the handler, acknowledges it.
    """

    __slots__ = ()

    def __init__(self, tp: TP, record: Any, generation_id: int) -> None:
        timestamp = record.timestamp
        self.topic = tp.topic
        self.partition = tp.partition
        self.offset = record.offset
        self.timestamp = timestamp / 1000.0 if timestamp is not None else None  # type: ignore[assignment]
        self.timestamp_type = record.timestamp_type
        self.headers = record.headers
        self.key = record.key
        self.value = record.value
        self.checksum = record.checksum
        self.serialized_key_size = record.serialized_key_size
        self.serialized_value_size = record.serialized_value_size
        self.acked = False
        self.refcount = 0
        self.tp = tp
        self.tracked = False
        self.time_in = None
        self.time_out = None
        self.time_total = None
        self.generation_id = generation_id

    @property
    def message(self) -> RoutedMessage:
        """The record itself: what a handler reads as ``event.message``."""
        return self


class BatchRoute:
    """One agent's topics, delivered to its batch handler by one task, a batch at a time."""

    def __init__(
        self,
        app: AppT,
        name: str,
        topics: frozenset[str],
        handler: BatchHandler,
        when_caught_up: Callable[[], Awaitable[object]] | None = None,
        *,
        pipelined: bool = False,
        urgent: bool = False,
    ) -> None:
        self.app = app
        self.name = name
        self.topics = topics
        self.handler = handler
        self.when_caught_up = when_caught_up
        self._last_caught_up = 0.0
        self.pipelined = pipelined
        #: Handed its batch before the other routes' in each fetch (module docstring).
        self.urgent = urgent
        #: Set once a handler or a completion raised: nothing more is handled or acknowledged.
        self.failed = False
        #: A pipelined route's batches and their completions, in the order they came.
        self._completions: asyncio.Queue[tuple[list[RoutedMessage], Completion]] | None = None
        self.pending: list[RoutedMessage] = []
        self._queue: asyncio.Queue[list[RoutedMessage]] | None = None
        self._room: asyncio.Event | None = None
        #: Records on the queue (bounded by :data:`QUEUED_RECORDS`).
        self.queued = 0
        #: A batch taken off the queue is being handled (its handler has not returned).
        self._deciding = False
        #: Set when the handler returned with nothing left on the queue (see :meth:`until_decided`).
        self._decided: asyncio.Event | None = None
        #: Records handled and acknowledged (for tests).
        self.delivered = 0

    @property
    def queue(self) -> asyncio.Queue[list[RoutedMessage]]:
        """Made on first use, on the worker's running loop."""
        if self._queue is None:
            self._queue = asyncio.Queue()
        return self._queue

    def enqueue(self, batch: list[RoutedMessage]) -> None:
        """Put a batch on the queue (the fetcher waited for room first)."""
        self.queued += len(batch)
        self.queue.put_nowait(batch)

    async def until_decided(self) -> None:
        """Until the handler returned for every record put on the queue so far."""
        while self.queued or self._deciding:
            if self._decided is None:
                self._decided = asyncio.Event()
            self._decided.clear()
            await self._decided.wait()

    def _note_decided(self) -> None:
        self._deciding = False
        if self._decided is not None and not self.queued:
            self._decided.set()

    def has_room(self) -> bool:
        return self.queued < QUEUED_RECORDS

    async def wait_for_room(self) -> None:
        """Until the handler took enough off the queue for :meth:`has_room`."""
        while not self.has_room():
            if self._room is None:
                self._room = asyncio.Event()
            self._room.clear()
            await self._room.wait()

    async def _take(self) -> list[RoutedMessage]:
        """The next batch: all that waits, up to :data:`MAX_BATCH` (one batch, not several)."""
        queue = self.queue
        batch = await queue.get()
        while len(batch) < MAX_BATCH and not queue.empty():
            batch += queue.get_nowait()
        self.queued -= len(batch)
        if self._room is not None and self.has_room():
            self._room.set()
        return batch

    def take_pending(self) -> list[RoutedMessage]:
        batch, self.pending = self.pending, []
        return batch

    def current(self, batch: list[RoutedMessage]) -> list[RoutedMessage]:
        """The records Faust's stream would still process: same generation, flow active."""
        app = self.app
        if not app.flow_control.is_active():
            return []
        generation = app.consumer_generation_id
        return [message for message in batch if message.generation_id == generation]

    def other_readers(self) -> list[str]:
        """The route's topics that more channels than the agent's read (the others would starve)."""
        index = self.app.topics._topic_name_index  # type: ignore[attr-defined]
        return sorted(topic for topic in self.topics if len(index.get(topic, ())) > 1)

    async def run(self) -> None:
        """Take batches off the queue and handle them, one at a time, for the worker's life.

        After a batch, when more wait, the loop gets a turn: ``queue.get`` on a
        non-empty queue and a handler that never waits do not give it one, so in
        a backlog a route went through its whole queue (:data:`QUEUED_RECORDS`)
        in one step while Faust's commit timer, the consumer's heartbeats, the
        HTTP views and the fetcher waited (a mix drain on the slow 2-core host:
        timers up to 8.7 s late). One batch still runs in one step: up to 2.4 s
        for :data:`MAX_BATCH` order events there.
        """
        others = self.other_readers()
        if others:
            fatal_stop.stop_worker(
                f"agent {self.name} is delivered in batches, but other agents read {others}"
            )
            return
        completing: asyncio.Task[None] | None = None
        if self.pipelined:
            self._completions = asyncio.Queue(maxsize=PIPELINE_DEPTH)
            completing = asyncio.create_task(self._complete_in_order(self._completions))
        try:
            while True:
                batch = self.current(await self._take())
                self._deciding = True
                if self.failed:  # a completion failed: decide and send nothing more
                    await self._stop_waiting()
                if batch:
                    await self._handle(batch)
                else:
                    self._note_decided()
                if not self.queue.empty():
                    await asyncio.sleep(0)  # a backlog: the loop's other work between batches
        finally:
            if completing is not None:
                completing.cancel()

    async def _handle(self, batch: list[RoutedMessage]) -> None:
        consumer = cast(Consumer, self.app.consumer)
        unacked = consumer._unacked_messages
        on_message_in = consumer._on_message_in
        for message in batch:  # in flight from here on: a rebalance waits for them
            message.tracked = True
            unacked.add(message)
            on_message_in(message.tp, message.offset, message)
        try:
            result = await self.handler(batch)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # nothing may be acknowledged after this
            await self._stop(f"batch handler {self.name} raised {type(exc).__name__}: {exc}", exc)
        self._note_decided()
        if self._completions is not None:
            await self._completions.put((batch, result))  # waits while PIPELINE_DEPTH wait
        else:
            await self._acknowledge(consumer, batch)

    async def _complete_in_order(
        self, completions: asyncio.Queue[tuple[list[RoutedMessage], Completion]]
    ) -> None:
        """Await each pipelined batch's completion, in order, then acknowledge its records.

        A completion that raises stops the worker, and this task then waits for the
        stop without awaiting any later completion: a later batch was decided on the
        failed one's state, and must not be stored or acknowledged without it.
        """
        consumer = cast(Consumer, self.app.consumer)
        while True:
            batch, complete = await completions.get()
            try:
                await complete()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                await self._stop(
                    f"batch completion {self.name} raised {type(exc).__name__}: {exc}", exc
                )
            await self._acknowledge(consumer, batch)

    async def _stop(self, reason: str, exc: Exception) -> NoReturn:
        """Stop the worker, handling and acknowledging nothing more."""
        self.failed = True
        fatal_stop.stop_worker(reason, exc)
        await self._stop_waiting()

    @staticmethod
    async def _stop_waiting() -> NoReturn:
        """Wait for the worker's stop, which cancels this."""
        await asyncio.Event().wait()
        raise AssertionError("unreachable: the event is never set")

    async def _acknowledge(self, consumer: Consumer, batch: list[RoutedMessage]) -> None:
        _ack_all(consumer, batch)
        self.delivered += len(batch)
        if self.when_caught_up is not None and self.queue.empty():
            await self._maybe_catch_up(consumer, batch, self.when_caught_up)

    async def _maybe_catch_up(
        self,
        consumer: Consumer,
        batch: list[RoutedMessage],
        work: Callable[[], Awaitable[object]],
    ) -> None:
        """Do ``work`` (``when_caught_up``) if the batch reached the end of each of its partitions.

        Only then, and at most every :data:`CAUGHT_UP_INTERVAL_SECONDS`: with a
        backlog the work keeps waiting for the commit (a commit cache writes
        each row once per commit), while a worker that keeps up does it in
        small parts, instead of stalling its loop for all of it at the commit.
        """
        now = time.monotonic()
        if now - self._last_caught_up < CAUGHT_UP_INTERVAL_SECONDS:
            return
        if not reached_the_end(consumer, batch):
            return
        self._last_caught_up = now
        try:
            await work()
        except Exception as exc:  # the records are acked: the commit must not pass the failure
            fatal_stop.stop_worker(f"{self.name}: work when caught up raised {exc!r}", exc)


def reached_the_end(consumer: Consumer, batch: Sequence[Message]) -> bool:
    """Whether the batch holds the last record fetched of each of its partitions' logs.

    By the high watermark of the partition's last fetch: True for a worker
    that keeps up with a live load, False while it drains a backlog.
    """
    last = {message.tp: message.offset for message in batch}
    for tp, offset in last.items():
        end = consumer.highwater(tp)
        if end is None or offset + 1 < end:
            return False
    return True


def _ack_all(consumer: Consumer, batch: Sequence[Message]) -> None:
    """``Consumer.ack`` for every record of the batch, under one acquisition of Faust's lock.

    The same bookkeeping as faust-streaming 0.15.3's ``Consumer.ack``
    (``transport/consumer.py:825-853``), record by record; the one waiter
    (``wait_empty``) is woken once, after the batch.
    """
    acks_enabled_for = consumer.app.topics.acks_enabled_for
    committed_offsets = consumer._committed_offset
    acked_indexes = consumer._acked_index
    acked_lists = consumer._acked
    unacked = consumer._unacked_messages
    acked = 0
    with ack_lock:
        try:
            for message in batch:
                if message.acked:
                    continue
                message.acked = True
                if not acks_enabled_for(message.topic):
                    continue
                tp, offset = message.tp, message.offset
                committed = committed_offsets[tp]
                if committed is None or offset >= committed:
                    acked_index = acked_indexes[tp]
                    if offset not in acked_index:
                        unacked.discard(message)
                        acked_index.add(offset)
                        acked_lists[tp].append(offset)
                        acked += 1
        finally:
            consumer._n_acked += acked
            notify(consumer._waiting_for_ack)


#: The routes of this process, by topic name (filled at import time, read by the drain loop).
_routes_by_topic: dict[str, BatchRoute] = {}


def deliver_in_batches(
    app: AppT,
    agent: AgentT[Any],
    handler: BatchHandler,
    *,
    when_caught_up: Callable[[], Awaitable[object]] | None = None,
    pipelined: bool = False,
    urgent: bool = False,
) -> BatchRoute:
    """Deliver ``agent``'s records to ``handler`` in batches instead of through its stream.

    ``handler`` gets the events of one batch (several partitions, each in
    offset order) and must never raise for a record's fault: an exception
    stops the worker. ``when_caught_up`` is work that may be done early when
    the route has caught up with its partitions (see
    :meth:`BatchRoute._maybe_catch_up`). ``pipelined``: ``handler`` returns the
    batch's :data:`Completion`, awaited while the next batches are handled
    (module docstring). ``urgent``: the route is handed its batch first in each fetch,
    and a batch that reached the end of its partitions is decided before the other
    routes get theirs. Call at import time, beside the agent.
    """
    install()
    topics = frozenset(agent.channel.topics)  # type: ignore[attr-defined]
    taken = topics & set(_routes_by_topic)
    if taken:
        raise RuntimeError(f"topics {sorted(taken)} are already delivered in batches")
    route = BatchRoute(
        app, agent.name, topics, handler, when_caught_up, pipelined=pipelined, urgent=urgent
    )
    for topic in topics:
        _routes_by_topic[topic] = route
    app.task(route.run)
    return route


def delivery_order(routes: Iterable[BatchRoute]) -> list[BatchRoute]:
    """Each route once, the urgent ones first: the order their tasks run in after a fetch.

    asyncio wakes the tasks waiting on the routes' queues in the order the
    batches are put there.
    """
    unique = list(dict.fromkeys(routes))
    return [route for route in unique if route.urgent] + [
        route for route in unique if not route.urgent
    ]


async def _deliver(consumer: Consumer, routes: Sequence[BatchRoute]) -> None:
    """Hand each route its pending batch; waits while a route is behind, gives up if flow stops.

    After an urgent route's batch that reached the end of its partitions, waits
    for its handler and lets the producer send before the next route's (module
    docstring).
    """
    for route in routes:
        if route.pending:
            batch = route.take_pending()
            if not route.has_room():
                await consumer.wait_first(route.wait_for_room(), consumer.suspend_flow.wait())
                if not route.has_room():  # flow stopped: dropped, fetched again after the seek
                    continue
            route.enqueue(batch)
            if route.urgent and reached_the_end(consumer, batch):
                await consumer.wait_first(route.until_decided(), consumer.suspend_flow.wait())
                for _ in range(PRODUCER_TURNS):
                    await asyncio.sleep(0)


async def _drain_messages(
    self: Consumer, fetcher: Service
) -> None:  # pragma: no cover - Faust's loop
    """Faust's drain loop; a routed topic's records join its route's batch (module docstring)."""
    consumer_should_stop = self._stopped.is_set
    fetcher_should_stop = fetcher._stopped.is_set
    flag_consumer_fetching = CONSUMER_FETCHING
    set_flag = self.diag.set_flag
    unset_flag = self.diag.unset_flag
    routes = delivery_order(_routes_by_topic.values())

    try:
        while not (consumer_should_stop() or fetcher_should_stop()):
            set_flag(flag_consumer_fetching)

            # Sleeping because sometimes getmany is called in a loop
            # never releasing to the event loop
            await self.sleep(0)
            if not self.should_stop:
                records, active_partitions = await self._wait_next_records(1.0)
                if records is not None and not self.should_stop:
                    await _take_fetch(self, records, active_partitions)
                await _deliver(self, routes)
                unset_flag(flag_consumer_fetching)

    except self.consumer_stopped_errors:
        if self.transport.app.should_stop:
            # we're already stopping so ignore
            self.log.info("Broker stopped consumer, shutting down...")
            return
        raise
    except asyncio.CancelledError:
        if self.transport.app.should_stop:
            # we're already stopping so ignore
            self.log.info("Consumer shutting down for user cancel.")
            return
        raise
    except Exception as exc:
        self.log.exception("Drain messages raised: %r", exc)
        raise
    finally:
        unset_flag(flag_consumer_fetching)


async def _take_fetch(
    self: Consumer, records: Mapping[TP, list[Any]], active_partitions: set[TP] | None
) -> None:
    """One fetch: routed partitions a partition at a time, the others through Faust's path.

    Faust's ``Consumer.getmany`` (0.15.3, ``transport/consumer.py:739-775``)
    stops taking a fetch when the flow stops or the generation changes, and
    skips partitions that are neither active nor buffered; both paths here
    keep those rules.
    """
    if not self.flow_active:
        self.log.dev("getmany called while flow not active. Seek back to committed offsets.")
        try:
            await self.perform_seek()
        except Exception as ex:
            self.log.warning(f"exception performing seek when flow not active {ex}")
        return
    generation_id = self.app.consumer_generation_id
    routed = {tp: got for tp, got in records.items() if tp.topic in _routes_by_topic}
    for tp, got in routed.items():
        if not await _take_routed(self, tp, got, generation_id, active_partitions):
            return
    if len(routed) < len(records):
        rest = {tp: got for tp, got in records.items() if tp not in routed}
        await _take_one_by_one(self, rest, generation_id, active_partitions)


def _taking(self: Consumer, generation_id: int) -> bool:
    """Faust's stream would still take records: flow active, same consumer generation."""
    return self.flow_active and self.app.consumer_generation_id == generation_id


def _accepts(self: Consumer, tp: TP, active_partitions: set[TP] | None) -> bool:
    return active_partitions is None or tp in active_partitions or tp in self._buffered_partitions


def _goes_on(self: Consumer, tp: TP, generation_id: int, active_partitions: set[TP] | None) -> bool:
    """Faust's stream would still take this partition's records (:func:`_taking`, :func:`_accepts`)."""
    return _taking(self, generation_id) and _accepts(self, tp, active_partitions)


async def _take_routed(
    self: Consumer,
    tp: TP,
    records: list[Any],
    generation_id: int,
    active_partitions: set[TP] | None,
) -> bool:
    """A routed partition's records onto its route's pending batch; False: stop taking the fetch.

    The bookkeeping of Faust's drain loop per record (read offset, gaps,
    ``commit_every``) without its per-record awaits; the flow, generation and
    partition checks Faust makes per record are made again after every await
    (nothing can change them in between). When they fail, whether the rest of
    the fetch is taken is :func:`_taking`'s answer (a skipped partition only
    skips its own records).
    """
    if not _goes_on(self, tp, generation_id, active_partitions):
        return _taking(self, generation_id)
    self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
    route = _routes_by_topic[tp.topic]
    read_offsets = self._read_offset
    commit_every = self._commit_every
    for record in records:
        offset = record.offset
        r_offset = read_offsets[tp]
        if r_offset is not None and offset < r_offset:
            self.log.dev("DROPPED MESSAGE ROFF %r: k=%r v=%r", offset, record.key, record.value)
            continue
        awaited = False
        if r_offset and offset - r_offset > 1 and self.app.topics.acks_enabled_for(tp.topic):
            await self._add_gap(tp, r_offset + 1, offset)  # a gap in the offsets
            awaited = True
        if commit_every is not None and self._n_acked >= commit_every:
            self._n_acked = 0
            await self.commit()
            awaited = True
        if awaited and not _goes_on(self, tp, generation_id, active_partitions):
            return _taking(self, generation_id)
        pending = route.pending
        pending.append(RoutedMessage(tp, record, generation_id))
        read_offsets[tp] = offset
        if len(pending) >= MAX_BATCH:
            await _deliver(self, (route,))
            if not _goes_on(self, tp, generation_id, active_partitions):
                return _taking(self, generation_id)
    return True


async def _take_one_by_one(
    self: Consumer,
    records: Mapping[TP, list[Any]],
    generation_id: int,
    active_partitions: set[TP] | None,
) -> None:
    """Faust's path, unchanged: round robin over the partitions, each record to ``callback``.

    The body of 0.15.3's ``getmany`` (``transport/consumer.py:744-766``) and of
    its drain loop's per-record part (``transport/consumer.py:1201-1231``).
    """
    callback = self.callback
    to_message = self._to_message
    get_read_offset = self._read_offset.__getitem__
    set_read_offset = self._read_offset.__setitem__
    commit_every = self._commit_every
    acks_enabled_for = self.app.topics.acks_enabled_for
    yield_every = 100
    num_since_yield = 0
    for tp, record in self.scheduler.iterate(records):
        if not _taking(self, generation_id):
            break
        if not _accepts(self, tp, active_partitions):
            continue
        self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
        message = to_message(tp, record)

        num_since_yield += 1
        if num_since_yield > yield_every:
            await asyncio.sleep(0)
            num_since_yield = 0

        offset = message.offset
        r_offset = get_read_offset(tp)
        if r_offset is None or offset >= r_offset:
            gap = offset - (r_offset or 0)
            # We have a gap in income messages
            if gap > 1 and r_offset:
                acks_enabled = acks_enabled_for(message.topic)
                if acks_enabled:
                    await self._add_gap(tp, r_offset + 1, offset)
            if commit_every is not None and self._n_acked >= commit_every:
                self._n_acked = 0
                await self.commit()
            await self.wait_first(callback(message), self.suspend_flow.wait())
            set_read_offset(tp, offset)
        else:
            self.log.dev(
                "DROPPED MESSAGE ROFF %r: k=%r v=%r",
                offset,
                message.key,
                message.value,
            )


def install() -> None:
    """Replace ``Consumer._drain_messages`` (idempotent)."""
    if Consumer._drain_messages is not _drain_messages:
        Consumer._drain_messages = _drain_messages  # type: ignore[method-assign,assignment]
