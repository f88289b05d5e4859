"""Faust patch: a failure Faust would survive by acknowledging the record stops the worker instead.

faust-streaming 0.15.3 loses the record being processed in three ways
(:mod:`app.kafka.fatal` says what happens instead):

- an exception escaping an agent: ``Agent._execute_actor`` calls
  ``App._on_agent_error``, which commits, and the supervisor restarts the
  agent; the record is acknowledged when its stream iterator is closed.
  Patched: ``App._on_agent_error`` calls :func:`app.kafka.fatal.stop_worker`
  (before the record can be acknowledged) and never returns, so the agent is
  not restarted either;
- a send nobody awaits fails (table changelog writes through the producer
  buffer, a ``topic.send`` whose future is dropped): ``Topic._on_published``
  only logs it and the next commit goes ahead. Patched: it stops the worker;
- a buffered send that raises at once (``MessageSizeTooLargeError`` on a
  changelog write) kills the buffer's sending task, so nothing buffered is
  ever sent and commits wait forever. Patched: the exception fails the
  message's future (and so stops the worker).

The stop itself: Faust's shutdown waits until every record handed to an agent
is acknowledged (``Consumer.wait_empty``); after a fatal stop nothing will be
committed, so it does not wait. And the gate: ``AIOKafkaConsumerThread._commit``, the one place offsets
go to the broker (after the commit's producer flush, so a changelog write that
fails during that flush is seen first), commits nothing once the gate is
closed.

What "stop" and "the gate" are is the App's business (:mod:`app.kafka.fatal`):
:func:`install` takes them as :class:`FatalHooks`, so this package imports
nothing of the project.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from faust.app.base import App
from faust.topics import Topic
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.producer import ProducerBuffer

__all__ = ["FatalHooks", "install", "stop_worker"]

logger = logging.getLogger(__name__)


class FatalHooks(Protocol):
    """How to stop the worker without committing, and whether commits are still allowed."""

    def stop_worker(self, reason: str, cause: BaseException | None = None) -> None: ...

    def commits_allowed(self) -> bool: ...


_hooks: list[FatalHooks] = []  # the one installed (a list: no module-level rebinding)
_original_commit = AIOKafkaConsumerThread._commit
_original_on_published = Topic._on_published
_original_send_pending = ProducerBuffer._send_pending
_original_wait_empty = Consumer.wait_empty


def stop_worker(reason: str, cause: BaseException | None = None) -> None:
    """Stop the worker without committing (for the other patches: a send of theirs failed)."""
    _hooks[0].stop_worker(reason, cause)


async def _commit(self: AIOKafkaConsumerThread, offsets: Any) -> bool:
    """Faust's commit, unless the worker is stopping after a fatal failure."""
    if not _hooks[0].commits_allowed():
        logger.warning("not committing %d offsets: the worker is stopping", len(offsets))
        return False
    return await _original_commit(self, offsets)


async def _on_agent_error(self: App, agent: Any, exc: BaseException) -> None:
    """Instead of committing and restarting the agent: stop the worker, commit nothing.

    Never returns: Faust restarts the agent when this returns, and the
    restarted agent would go on with the records after the failed one. The
    worker's stop cancels the wait.
    """
    _hooks[0].stop_worker(f"agent {agent.name} raised {type(exc).__name__}: {exc}", exc)
    await asyncio.Event().wait()


def _on_published(self: Topic, fut: Any, message: Any, producer: Any, state: Any) -> None:
    """Faust's send callback; a send that failed stops the worker before anything waits on it."""
    if not fut.cancelled() and fut.exception() is not None:
        topic = self._topic_name_or_default(message.message.channel)
        _hooks[0].stop_worker(f"send to {topic} failed: {fut.exception()!r}", fut.exception())
    _original_on_published(self, fut, message, producer, state)


async def _send_pending(self: ProducerBuffer, fut: Any) -> None:
    """Send one buffered message; a send that raises fails its future instead of the buffer."""
    try:
        await _original_send_pending(self, fut)
    except Exception as exc:  # the buffer's task must go on; the failure is fatal
        topic = getattr(fut.message.channel, "topics", None) or fut.message.channel
        _hooks[0].stop_worker(f"buffered send to {topic} raised {exc!r}", exc)
        if not fut.done():
            fut.set_exception(exc)


async def _wait_empty(self: Consumer) -> None:
    """Faust's wait for in-flight records before the last commit; none comes after a fatal stop.

    The failed record is never acknowledged (its agent waits in
    :func:`_on_agent_error`), so waiting for it would hang the stop.
    """
    if _hooks[0].commits_allowed():
        await _original_wait_empty(self)


def install(hooks: FatalHooks) -> None:
    """Install the gate and the three fatal paths, stopping through ``hooks`` (idempotent)."""
    _hooks[:] = [hooks]
    if AIOKafkaConsumerThread._commit is not _commit:
        AIOKafkaConsumerThread._commit = _commit  # type: ignore[method-assign]
        App._on_agent_error = _on_agent_error  # type: ignore[method-assign]
        Topic._on_published = _on_published  # type: ignore[method-assign]
        ProducerBuffer._send_pending = _send_pending  # type: ignore[method-assign]
        Consumer.wait_empty = _wait_empty  # type: ignore[method-assign]
