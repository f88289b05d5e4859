"""Speed-up: the worker's Kafka consumer runs on the worker's event loop, not in a thread of its own.

Faust runs aiokafka's consumer in a ``ServiceThread`` with an event loop of
its own (robinhood/faust#231: heartbeats went on while an agent blocked the
loop with ``time.sleep``), and every call into it crosses threads through a
method queue: each fetch is enqueued with ``call_soon_threadsafe``, taken by
a queue worker in the consumer thread, and its result set back in the main
loop with ``call_soon_threadsafe`` again. Both threads share one GIL. When
the main thread is busy, the consumer thread waits for the GIL after every
system call it makes (CPython hands it over after the 5 ms switch interval),
so a fetch that needs a few of them is late by several of those waits. At
half of the bench mix's maximum (14,670 events/s) the consumer thread got
5-6 % of a core against 13 % at a fifth of that load, and a record was 11-15 ms
old when it handed it out (a bare consumer: 2-2.5 ms).

ShopStream's agents never block the loop: their work is a batch of records
at a time, and the longest stall measured at half load is tens of
milliseconds, against a session timeout of 10 s. :func:`install` builds the
worker's consumer "thread" on the worker's own loop: ``start`` runs its
service as a task of that loop instead of a thread, ``call_thread`` awaits
the method directly, and shutting it down no longer cancels every other task
of "its" loop (``ServiceThread._gather_remaining_tasks`` sweeps a thread's
loop, which here is the worker's). Everything else (the rebalance callbacks
through the main method queue, the fetcher, the commit) is Faust's, unchanged.

Latency bench (``python -m bench --only latency --latency-max 29341 --repeats 1``), one
quiet hour, the same code with and without this patch, p50 / p99 produce ->
``order-status``: at 2,934 events/s 12.2-13.0 / 33.2-42.1 ms with the thread (3 runs),
11.8-12.1 / 26.5-28.4 ms without (2 runs); at 14,670 events/s the worker with the thread
fell behind (p50 1.5-1.6 s, 2 runs), without it kept up (84 / 212 ms; 50 / 139 ms in a
run with py-spy attached). The worker's CPU at 2,934 events/s: 56 % of a core (its two
threads) -> 44 %.

Checked against faust-streaming 0.15.3 and mode-streaming 0.7.1: ``ServiceThread.start``
(``mode/threads.py``) and ``_serve``, ``QueueServiceThread.call_thread``, and
``Consumer._new_consumer_thread`` (``transport/drivers/aiokafka.py:237``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, Consumer
from mode.utils.futures import maybe_async

__all__ = ["InlineConsumerThread", "install"]


class InlineConsumerThread(AIOKafkaConsumerThread):
    """Faust's consumer thread without the thread: a service of the worker's own loop."""

    _serving: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """``ServiceThread.start`` with ``_serve`` as a task instead of a thread's whole life."""
        assert not self._thread_started.is_set()
        self._thread_started.set()
        self._thread_running = asyncio.Future(loop=self.parent_loop)
        try:
            self._serving = self.parent_loop.create_task(self._serve())
            self._serving.add_done_callback(_reported)
            if not self.should_stop and self.wait_for_thread:
                await self._thread_running  # set by _serve once started, or to its error
        finally:
            self._thread_running = None

    async def call_thread(
        self, fun: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> Any:
        """Call the consumer's method here and now: it lives on this loop."""
        return await maybe_async(fun(*args, **kwargs))

    async def _gather_remaining_tasks(self) -> None:
        """Nothing to sweep: the loop is the worker's, and its other tasks are not ours.

        aiokafka's consumer cancels its own tasks when it stops (``on_thread_stop``).
        """


def _reported(serving: asyncio.Task[None]) -> None:
    """A failure of the service was reported by its ``crash`` (the worker stops): not again.

    Without this asyncio would also log it as "Task exception was never retrieved".
    """
    if not serving.cancelled():
        serving.exception()


def _new_consumer_thread(self: Consumer) -> AIOKafkaConsumerThread:
    """Faust's consumer thread, built on the worker's loop (see the module docstring)."""
    return InlineConsumerThread(self, loop=self.loop, thread_loop=self.loop, beacon=self.beacon)


def install() -> None:
    """Replace ``Consumer._new_consumer_thread`` of Faust's aiokafka driver (idempotent)."""
    if Consumer._new_consumer_thread is not _new_consumer_thread:
        Consumer._new_consumer_thread = _new_consumer_thread  # type: ignore[method-assign]
