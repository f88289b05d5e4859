"""The fetch loop's direct delivery (:mod:`app.faust_patches.drain_fast_path`).

A record is delivered without ``wait_first`` only when the delivery cannot
block; whenever it could (flow suspended or being suspended, producer buffer
over its limit, a full stream queue, subscriptions changing), Faust's
abandonable ``wait_first`` is kept.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from faust.transport.consumer import Consumer
from mode.utils.queues import FlowControlEvent

from app import faust_patches
from app.faust_patches import drain_fast_path
from app.kafka import fatal

TP = ("orders", 0)


def _consumer(queue_size: int = 10) -> Any:
    flow = FlowControlEvent()
    flow.resume()
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=queue_size)
    buffer = SimpleNamespace(pending=asyncio.Queue(), max_messages=1000)
    conductor = SimpleNamespace(
        _tp_index={TP: [SimpleNamespace(queue=queue)]}, _tp_to_callback_lock=asyncio.Lock()
    )
    app = SimpleNamespace(
        flow_control=flow, producer=SimpleNamespace(buffer=buffer), topics=conductor
    )
    return SimpleNamespace(app=app, suspend_flow=asyncio.Event(), queue=queue, buffer=buffer)


async def test_the_fetch_loop_is_replaced() -> None:
    faust_patches.install(fatal)
    assert Consumer._drain_messages is drain_fast_path._drain_messages


async def test_direct_delivery_only_when_nothing_can_block() -> None:
    consumer = _consumer(queue_size=1)
    cannot_block = drain_fast_path._cannot_block(consumer)
    assert cannot_block(TP)
    assert cannot_block(("unsubscribed", 0))

    consumer.queue.put_nowait("record")  # the stream's queue is full
    assert not cannot_block(TP)
    consumer.queue.get_nowait()

    consumer.suspend_flow.set()  # a rebalance is suspending the flow
    assert not cannot_block(TP)
    consumer.suspend_flow.clear()

    consumer.app.flow_control.suspend()
    assert not cannot_block(TP)
    consumer.app.flow_control.resume()

    for _ in range(1001):  # the producer buffer is over its limit
        consumer.buffer.pending.put_nowait(object())
    assert not cannot_block(TP)
