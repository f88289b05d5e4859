"""A takeover drops no fetched record (:mod:`app.faust_patches.recovery_flow`); fails unpatched."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from faust.tables.recovery import Recovery
from faust.types import TP
from mode.utils.queues import FlowControlEvent, FlowControlQueue

from app import faust_patches
from app.kafka import fatal


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
    faust_patches.install(fatal)
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
