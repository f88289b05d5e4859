"""A fetch paused mid-wait loses nothing (:mod:`app.faust_patches.fetch_snapshot`); fails unpatched."""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace
from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP

from app import faust_patches
from app.kafka import fatal

ORDERS = TP("orders", 1)
STANDBY_CHANGELOG = TP("shopstream-orders-changelog", 0)


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
    faust_patches.install(fatal)
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
