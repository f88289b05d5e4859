"""Commits wait for table updates (:mod:`app.faust_patches.producer_flush`); fails unpatched.

Faust commits input offsets right after ``producer.flush()``; unpatched, the
buffer's flush returns once the queue is handed over (or after 0.1 s without
progress), before the broker acknowledged anything: a crash then loses table
updates whose inputs are already committed.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from faust.transport.producer import ProducerBuffer
from faust.types.tuples import FutureMessage

from app import faust_patches
from app.kafka import fatal


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
    faust_patches.install(fatal)
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
