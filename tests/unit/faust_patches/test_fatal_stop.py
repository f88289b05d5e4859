"""The fatal-stop patch: after a failure Faust would survive by acknowledging, nothing is committed.

Unpatched faust-streaming 0.15.3 commits in ``App._on_agent_error`` and then
restarts the agent, only logs a failed send in ``Topic._on_published``, and
loses its producer buffer's task to a send that raises; each test below
checks the patched behaviour (:mod:`app.faust_patches.fatal_stop`).
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from faust.app.base import App
from faust.topics import Topic
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.producer import ProducerBuffer
from faust.types import TP

from app.faust_patches import fatal_stop


class Hooks:
    """Records stops instead of stopping the test process."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def stop_worker(self, reason: str, cause: BaseException | None = None) -> None:
        self.reasons.append(reason)

    def commits_allowed(self) -> bool:
        return not self.reasons


@pytest.fixture
def hooks() -> Any:
    installed = Hooks()
    fatal_stop.install(installed)
    yield installed
    fatal_stop.install(Hooks())


async def test_no_offset_reaches_the_broker_once_the_worker_is_stopping(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    committed: list[Any] = []

    async def broker_commit(self: Any, offsets: Any) -> bool:
        committed.append(offsets)
        return True

    monkeypatch.setattr(fatal_stop, "_original_commit", broker_commit)
    thread: Any = SimpleNamespace()
    tp = TP("orders", 0)
    assert await AIOKafkaConsumerThread._commit(thread, {tp: 5}) is True
    hooks.stop_worker("a send failed")
    assert await AIOKafkaConsumerThread._commit(thread, {tp: 6}) is False
    assert committed == [{tp: 5}]


async def test_an_agent_that_raised_stops_the_worker_and_is_not_restarted(hooks: Hooks) -> None:
    agent = SimpleNamespace(name="order-lifecycle")
    handling = asyncio.ensure_future(
        App._on_agent_error(SimpleNamespace(), agent, OSError("disk"))  # type: ignore[arg-type]
    )
    await asyncio.sleep(0.05)
    assert hooks.reasons == ["agent order-lifecycle raised OSError: disk"]
    assert not handling.done()  # Faust restarts the agent only when this returns
    handling.cancel()


async def test_a_failed_send_nobody_awaits_stops_the_worker(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(fatal_stop, "_original_on_published", lambda *args: seen.append(args))
    delivery: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    delivery.set_exception(TimeoutError("no broker"))
    topic: Any = SimpleNamespace(_topic_name_or_default=lambda channel: "orders-changelog")
    message = SimpleNamespace(message=SimpleNamespace(channel=None))
    Topic._on_published(topic, delivery, message, None, None)  # type: ignore[arg-type]
    assert hooks.reasons and "orders-changelog" in hooks.reasons[0]
    assert len(seen) == 1  # Faust's own bookkeeping still runs


async def test_a_buffered_send_that_raises_fails_its_message_instead_of_the_buffer(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def too_large(self: Any, fut: Any) -> None:
        raise ValueError("MessageSizeTooLargeError")

    monkeypatch.setattr(fatal_stop, "_original_send_pending", too_large)
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    fut.message = SimpleNamespace(channel=SimpleNamespace(topics=["orders-changelog"]))  # type: ignore[attr-defined]
    await ProducerBuffer._send_pending(SimpleNamespace(), fut)  # type: ignore[arg-type]
    assert hooks.reasons and isinstance(fut.exception(), ValueError)


async def test_a_stopping_worker_does_not_wait_for_the_record_that_failed(
    hooks: Hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    waited: list[bool] = []

    async def wait_for_acks(self: Any) -> None:
        waited.append(True)

    monkeypatch.setattr(fatal_stop, "_original_wait_empty", wait_for_acks)
    await Consumer.wait_empty(SimpleNamespace())
    hooks.stop_worker("store failed")
    await Consumer.wait_empty(SimpleNamespace())
    assert waited == [True]
