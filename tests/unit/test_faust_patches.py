"""The Faust fixes: commits wait for table updates; a takeover drops no fetched record.

Each fix has a test that fails against unpatched faust-streaming 0.15.3 (:mod:`app.faust_patches`).

Faust commits input offsets right after ``producer.flush()``; unpatched, the
buffer's flush returns once the queue is handed over (or after 0.1 s without
progress), before the broker acknowledged anything: a crash then loses table
updates whose inputs are already committed (see :mod:`app.faust_patches`).
"""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace
from typing import Any

import pytest
from faust.tables.recovery import Recovery
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.producer import ProducerBuffer
from faust.types import TP
from faust.types.tuples import FutureMessage
from mode.utils.queues import FlowControlEvent, FlowControlQueue

from app import faust_patches


class _Channel:
    """A topic whose sends reach the Kafka client but are acknowledged only when told."""

    def __init__(self) -> None:
        self.published: list[FutureMessage] = []

    async def publish_message(self, fut: FutureMessage, wait: bool = False) -> Any:
        self.published.append(fut)
        return fut


def _message(channel: _Channel) -> FutureMessage:
    return FutureMessage(SimpleNamespace(channel=channel))  # type: ignore[arg-type]


async def test_flush_returns_only_after_every_buffered_message_is_acknowledged() -> None:
    faust_patches.install()
    buffer = ProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))  # type: ignore[assignment]
    channel = _Channel()
    await buffer.start()
    try:
        first, second = _message(channel), _message(channel)
        buffer.put(first)
        buffer.put(second)
        flush = asyncio.create_task(buffer.flush())
        await asyncio.sleep(0.4)  # longer than Faust's 0.1 s give-up
        assert len(channel.published) == 2 and not flush.done()
        first.set_result(None)  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        assert not flush.done()
        second.set_exception(RuntimeError("refused"))  # answered, even if refused
        await asyncio.wait_for(flush, timeout=3)
    finally:
        await buffer.stop()


# -- takeover: records fetched while the input partitions are sought must not be dropped ----


class _Fetcher:
    """A running fetcher: hands one record per resumed partition to its queue."""

    def __init__(self, streams: FlowControlQueue[Any], changelogs: FlowControlQueue[Any]) -> None:
        self.streams, self.changelogs = streams, changelogs
        self.resumed: set[TP] = set()
        self.handed_over: list[tuple[TP, int]] = []

    def fetch(self) -> None:
        for tp in sorted(self.resumed):
            queue = self.changelogs if tp.topic.endswith("-changelog") else self.streams
            offset = sum(1 for handed, _ in self.handed_over if handed == tp)
            queue.put_nowait(SimpleNamespace(message=SimpleNamespace(tp=tp, offset=offset)))
            self.handed_over.append((tp, offset))

    # The consumer API on_recovery_completed uses.
    def assignment(self) -> set[TP]:
        return {ORDERS, STANDBY_CHANGELOG}

    def resume_partitions(self, tps: set[TP]) -> None:
        self.resumed |= set(tps)

    async def perform_seek(self) -> None:
        await asyncio.sleep(0)  # a broker round trip: the fetcher runs meanwhile
        self.fetch()

    def resume_flow(self) -> None: ...


def _items(queue: FlowControlQueue[Any]) -> list[Any]:
    return list(queue._queue)  # type: ignore[attr-defined]


ORDERS = TP("orders", 1)
STANDBY_CHANGELOG = TP("shopstream-orders-changelog", 0)


def _quiet(*_: Any, **__: Any) -> None:
    return None


def _recovery(fetcher: _Fetcher, flow_control: FlowControlEvent) -> Any:
    """The parts of a Recovery and its App that on_recovery_completed touches."""

    async def nothing(*_: Any, **__: Any) -> None:
        return None

    async def wait(coro: Any, timeout: float | None = None) -> None:
        await coro

    app = SimpleNamespace(
        consumer=fetcher,
        flow_control=flow_control,
        consumer_generation_id=3,
        conf=SimpleNamespace(broker_request_timeout=5.0),
        on_rebalance_complete=SimpleNamespace(send=nothing),
        _fetcher=SimpleNamespace(maybe_start=nothing),
        assignor=SimpleNamespace(assigned_standbys=lambda: {STANDBY_CHANGELOG}),
        on_rebalance_end=lambda: None,
    )
    tables = SimpleNamespace(
        values=lambda: [], on_actives_ready=lambda: None, on_standbys_ready=lambda: None
    )
    return SimpleNamespace(
        app=app,
        tables=tables,
        log=SimpleNamespace(info=_quiet, warning=_quiet, dev=_quiet),
        actives_for_table={},
        standbys_for_table={},
        completed=asyncio.Event(),
        _set_recovery_ended=lambda: None,
        _wait=wait,
        _is_changelog_tp=lambda tp: tp.topic.endswith("-changelog"),
    )


async def _complete_recovery(*, flow_active: bool) -> tuple[_Fetcher, list[tuple[TP, int]]]:
    """Run on_recovery_completed with a live fetcher; returns it and what stays queued."""
    faust_patches.install()
    flow_control = FlowControlEvent(initially_suspended=not flow_active)
    streams: FlowControlQueue[Any] = FlowControlQueue(
        flow_control=flow_control, clear_on_resume=True
    )
    changelogs: FlowControlQueue[Any] = FlowControlQueue(
        flow_control=flow_control, clear_on_resume=True
    )
    fetcher = _Fetcher(streams, changelogs)
    fetcher.resume_partitions({STANDBY_CHANGELOG})  # standbys resumed before recovery completes
    fetcher.fetch()
    await Recovery.on_recovery_completed(_recovery(fetcher, flow_control), 3)
    assert flow_control.is_active()
    queued = [(e.message.tp, e.message.offset) for q in (streams, changelogs) for e in _items(q)]
    return fetcher, queued


async def test_takeover_drops_no_record_fetched_for_the_new_assignment() -> None:
    fetcher, queued = await _complete_recovery(flow_active=True)  # as the recovery leaves it
    assert sorted(queued) == sorted(fetcher.handed_over), "a fetched record was dropped"
    assert (ORDERS, 0) in queued and (STANDBY_CHANGELOG, 0) in queued


async def test_flow_suspended_by_a_newer_rebalance_is_resumed_without_stale_records() -> None:
    fetcher, queued = await _complete_recovery(flow_active=False)
    assert fetcher.handed_over and queued == []  # Faust's clear, as unpatched


# -- a fetch must not consume records of partitions paused while it waited -----------------


class _AiokafkaFetcher:
    """aiokafka's fetcher as Faust uses it: an empty partition set means every partition."""

    def __init__(self, buffered: dict[TP, list[int]], waiting: asyncio.Event) -> None:
        self.buffered, self.waiting = buffered, waiting
        self.position = {tp: offsets[0] for tp, offsets in buffered.items()}
        self._closed = False
        self._subscriptions = SimpleNamespace(fetch_context=contextlib.nullcontext)

    async def fetched_records(
        self, partitions: set[TP], timeout: float = 0, max_records: int | None = None
    ) -> dict[TP, list[Any]]:
        await self.waiting.wait()  # Faust pauses partitions meanwhile
        drained = {}
        for tp, offsets in self.buffered.items():
            if partitions and tp not in partitions:
                continue
            drained[tp] = [SimpleNamespace(offset=o) for o in offsets]
            self.position[tp] = offsets[-1] + 1  # consumed
        return drained

    def seek(self, tp: TP, offset: int) -> None:
        self.position[tp] = offset


async def _fetch_while_pausing(active: set[TP], paused: set[TP]) -> tuple[Any, _AiokafkaFetcher]:
    faust_patches.install()
    waiting = asyncio.Event()
    fetcher = _AiokafkaFetcher({ORDERS: [4, 5], STANDBY_CHANGELOG: [7]}, waiting)
    consumer = SimpleNamespace(_fetcher=fetcher, _closed=False, seek=fetcher.seek)
    thread = SimpleNamespace(consumer=SimpleNamespace(flow_active=True))
    fetch = asyncio.create_task(
        AIOKafkaConsumerThread._fetch_records(thread, consumer, active, timeout=1.0)  # type: ignore[arg-type]
    )
    await asyncio.sleep(0)
    active -= paused  # Faust's pause_partitions, on the live set it passed
    waiting.set()
    return await fetch, fetcher


async def test_pausing_every_partition_mid_fetch_consumes_nothing() -> None:
    records, fetcher = await _fetch_while_pausing(
        {ORDERS, STANDBY_CHANGELOG}, {ORDERS, STANDBY_CHANGELOG}
    )
    assert records == {}  # Faust would discard whatever came back
    assert fetcher.position == {ORDERS: 4, STANDBY_CHANGELOG: 7}, "records were consumed and lost"


async def test_a_partition_paused_mid_fetch_gets_its_records_back() -> None:
    records, fetcher = await _fetch_while_pausing({ORDERS, STANDBY_CHANGELOG}, {ORDERS})
    assert list(records) == [STANDBY_CHANGELOG]
    assert fetcher.position == {ORDERS: 4, STANDBY_CHANGELOG: 8}


def test_the_patches_refuse_a_faust_or_aiokafka_they_were_not_checked_against(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import faust

    faust_patches.install()  # the pinned versions: accepted
    monkeypatch.setattr(faust, "__version__", "0.16.0")
    with pytest.raises(RuntimeError, match="re-check each patch"):
        faust_patches.install()
