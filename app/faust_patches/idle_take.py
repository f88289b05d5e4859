"""Speed-up: a stream's ``take_events`` sleeps while it has nothing, instead of waking every ``within``.

faust-streaming 0.15.3's ``Stream.take_events`` (``streams.py:455-540``)
waits for a full buffer with a timeout of ``within`` and, on the timeout,
yields the buffer if it holds anything. An empty buffer still costs a wake-up
per ``within``: a ``wait_first`` of two tasks, three futures and a cancel.
ShopStream's batched agents take with ``within`` 10-20 ms, and their records
go around this path (:mod:`~app.faust_patches.batch_delivery`), so in a
running worker their buffers stay empty and the three agents woke about 250
times a second for nothing: an idle worker used 6.3-7.0 % of a core (py-spy:
the agents' ``take_events`` loops and ``wait_first`` most of it), and a busy
one gave those turns of its loop away too.

The copy below changes one thing: while the buffer is empty it waits, without
a timeout, for the first value (or the stream's stop); then it waits for a
full buffer for at most ``within``, as Faust does. So a value waits at most
``within`` after it arrived (Faust: at most ``within`` after the last timeout
before it), and an empty stream costs nothing. Acks, the buffer-consuming
handshake and the cleanup are Faust's, line for line.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from typing import Any, cast

from faust.streams import Stream, _tracks_buffer_agen
from faust.types import EventT
from mode import Seconds, want_seconds
from mode.utils.aiter import aiter
from mode.utils.futures import notify

__all__ = ["install"]


@_tracks_buffer_agen
async def _take_events(
    self: Stream[Any], max_: int, within: Seconds
) -> AsyncGenerator[Sequence[EventT[Any]], None]:
    """Faust's ``Stream.take_events``, asleep while the buffer is empty (module docstring)."""
    buffer: list[Any] = []
    events: list[EventT[Any]] = []
    buffer_add = buffer.append
    event_add = events.append
    buffer_size = buffer.__len__
    buffer_started = asyncio.Event()  # the change: set by the first value of a buffer
    buffer_full = asyncio.Event()
    buffer_consumed = asyncio.Event()
    timeout = want_seconds(within) if within else None
    stream_enable_acks: bool = self.enable_acks

    buffer_consuming: asyncio.Future[None] | None = None

    channel_it = aiter(self.channel)

    async def add_to_buffer(value: Any) -> Any:
        try:
            nonlocal buffer_consuming
            if buffer_consuming is not None:
                try:
                    await buffer_consuming
                finally:
                    buffer_consuming = None
            buffer_add(value)
            event = self.current_event
            if event is None:
                raise RuntimeError("Take buffer found current_event is None")
            event_add(event)
            buffer_started.set()
            if buffer_size() >= max_:
                buffer_full.set()
                buffer_consumed.clear()
                await self.wait(buffer_consumed)  # type: ignore[arg-type]
        except asyncio.CancelledError:  # pragma: no cover
            raise
        except Exception as exc:
            self.log.exception("Error adding to take buffer: %r", exc)
            await self.crash(exc)
        return value

    self.enable_acks = False
    self.add_processor(add_to_buffer)
    self._enable_passive(cast(Any, channel_it))
    try:
        while not self.should_stop:
            if not buffer and await self.wait_for_stopped(buffer_started):  # type: ignore[arg-type]
                break
            await self.wait_for_stopped(buffer_full, timeout=timeout)  # type: ignore[arg-type]
            if buffer:
                buffer_consuming = self.loop.create_future()
                try:
                    yield list(events)
                finally:
                    buffer.clear()
                    for event in events:
                        await self.ack(event)
                    events.clear()
                    buffer_started.clear()
                    notify(buffer_consuming)
                    buffer_full.clear()
                    buffer_consumed.set()
    finally:
        self.enable_acks = stream_enable_acks
        self._processors.remove(add_to_buffer)


def install() -> None:
    """Replace ``Stream.take_events`` (idempotent)."""
    if Stream.take_events is not _take_events:
        Stream.take_events = _take_events  # type: ignore[method-assign]
