"""The worker's consumer runs on the worker's loop (:mod:`app.faust_patches.inline_consumer`).

Unpatched, Faust starts the consumer in a thread with a loop of its own, and
every call into it crosses threads through a method queue.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from app import faust_patches
from app.faust_patches.inline_consumer import InlineConsumerThread
from app.kafka import fatal


def _worker_consumer() -> Any:
    faust_patches.install(fatal)
    from app.main import app

    return app.consumer


class _Thread(InlineConsumerThread):
    """The patched consumer thread with the broker left out: it notes where it ran."""

    started_in: int | None = None
    stopped_consumer = False

    async def on_start(self) -> None:
        self.started_in = threading.get_ident()

    async def on_thread_stop(self) -> None:
        await super(InlineConsumerThread, self).on_thread_stop()  # the method queue
        self.stopped_consumer = True


def test_the_worker_consumer_thread_is_built_on_the_worker_loop() -> None:
    consumer = _worker_consumer()
    thread = consumer._thread
    assert isinstance(thread, InlineConsumerThread)
    assert thread.thread_loop is thread.parent_loop is consumer.loop


async def test_a_call_into_the_consumer_is_made_directly_without_its_method_queue() -> None:
    thread = _worker_consumer()._thread
    caller = threading.get_ident()

    async def fetch(partitions: set[int], *, timeout: float) -> tuple[int, set[int], float]:
        return threading.get_ident(), partitions, timeout

    def assignment() -> set[int]:
        return {1, 2}

    assert await thread.call_thread(fetch, {3}, timeout=0.5) == (caller, {3}, 0.5)
    assert await thread.call_thread(assignment) == {1, 2}
    assert thread._method_queue is None  # never made: nothing was queued


async def test_it_starts_and_stops_on_this_loop_and_leaves_the_loops_other_tasks_alone() -> None:
    consumer = _worker_consumer()
    loop = asyncio.get_running_loop()
    thread = _Thread(consumer, loop=loop, thread_loop=loop)
    bystander = asyncio.create_task(asyncio.sleep(60))
    threads_before = threading.active_count()
    try:
        await asyncio.wait_for(thread.start(), 5)
        assert thread.started_in == threading.get_ident()
        assert threading.active_count() == threads_before  # no thread was started
        await asyncio.wait_for(thread.stop(), 5)
        assert thread._serving is not None
        await asyncio.wait_for(thread._serving, 5)
        assert thread.stopped_consumer
        assert not bystander.done()  # ServiceThread's sweep would have cancelled it
    finally:
        bystander.cancel()


class _Unreachable(_Thread):
    """The patched consumer thread whose consumer cannot start (no broker)."""

    async def on_start(self) -> None:
        raise ConnectionError("no broker")


async def test_a_consumer_that_cannot_start_fails_the_start_and_is_reported_once() -> None:
    consumer = _worker_consumer()
    loop = asyncio.get_running_loop()
    thread = _Unreachable(consumer, loop=loop, thread_loop=loop)  # a beacon of its own
    with pytest.raises(ConnectionError, match=r"^no broker$"):
        await asyncio.wait_for(thread.start(), 5)
    assert thread._serving is not None
    await asyncio.wait([thread._serving], timeout=5)
    assert thread._serving.done() and isinstance(thread._serving.exception(), ConnectionError)
