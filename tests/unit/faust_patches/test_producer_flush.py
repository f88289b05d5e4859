"""The commit's flush (:mod:`app.faust_patches.producer_flush`); each test fails unpatched.

Faust commits input offsets right after ``producer.flush()``. Unpatched, the
buffer's flush returns once the queue is handed over (or after 0.1 s without
progress), before the broker acknowledged anything, and a refused send is only
logged: a crash then loses table updates and outputs whose inputs are already
committed. Patched, the flush waits for exactly what was outstanding when it
began and raises when a send was refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from faust.transport.drivers.aiokafka import Producer
from faust.transport.producer import ProducerBuffer
from faust.types.tuples import FutureMessage

from app import faust_patches
from app.faust_patches import producer_flush
from app.faust_patches.producer_flush import SendFailed
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


@pytest.fixture
async def producer() -> AsyncIterator[Any]:
    """Faust's producer as far as the flush sees it: a running buffer, no Kafka client."""
    faust_patches.install(fatal)
    buffer = ProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))  # type: ignore[assignment]
    await buffer.start()
    try:
        yield SimpleNamespace(buffer=buffer, _producer=None, _transaction_producers={})
    finally:
        await buffer.stop()


async def _sent(producer: Any, monkeypatch: pytest.MonkeyPatch) -> asyncio.Future[Any]:
    """A send handed straight to the Kafka client (``topic.send``), not yet acknowledged."""
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    async def to_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        return fut

    monkeypatch.setattr(producer_flush, "_original_send", to_client)
    assert await Producer.send(producer, "t", None, b"v", None, None, None) is fut
    return fut


async def test_flush_returns_only_after_every_send_made_before_it_is_acknowledged(
    producer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel = _Channel()
    buffered = _message(channel)
    producer.buffer.put(buffered)
    direct = await _sent(producer, monkeypatch)
    flush = asyncio.create_task(Producer.flush(producer))
    await asyncio.sleep(0.4)  # longer than Faust's 0.1 s give-up
    assert channel.published == [buffered] and not flush.done()
    buffered.set_result(None)  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert not flush.done()
    direct.set_result(None)
    await asyncio.wait_for(flush, timeout=3)


async def test_sends_made_after_the_flush_began_do_not_postpone_it(
    producer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await _sent(producer, monkeypatch)
    flush = asyncio.create_task(Producer.flush(producer))
    await asyncio.sleep(0.05)
    later = await _sent(producer, monkeypatch)  # a write of the next records
    producer.buffer.put(_message(_Channel()))
    before.set_result(None)
    await asyncio.wait_for(flush, timeout=3)
    assert not later.done()


async def test_a_refused_send_fails_the_flush_and_every_later_one(
    producer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = await _sent(producer, monkeypatch)
    refused.set_exception(RuntimeError("NotEnoughReplicas"))
    await asyncio.sleep(0)  # the refusal arrives before the commit begins
    with pytest.raises(SendFailed, match="NotEnoughReplicas"):
        await asyncio.wait_for(Producer.flush(producer), timeout=3)
    with pytest.raises(SendFailed):  # the worker must stop: no later commit passes either
        await asyncio.wait_for(Producer.flush(producer), timeout=3)
