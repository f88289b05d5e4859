"""Commits wait for the sends made before them, no more, and refuse to pass a failed one.

Before committing input offsets Faust 0.15.3 awaits ``Producer.flush()``:
``ProducerBuffer.flush`` gives up as soon as 0.1 s pass without a buffered
message being handed to aiokafka and never waits for the broker's
acknowledgement; aiokafka's ``flush`` waits for its batches with
``asyncio.wait``, which does not raise: a changelog write or an output the
broker refused is only logged (``Topic._on_published``) and the offsets of
the records it belongs to are committed all the same. (The first fix kept
waiting, pass after pass, for whatever was outstanding, so continuous writes
could postpone a commit indefinitely: commits of 11-40 s were logged.)

:func:`install` keeps a :class:`SendLedger` per producer: every message put
into the producer buffer and every send handed to aiokafka stays in it until
the broker answered; a refusal is remembered. ``Producer.flush`` then takes a
snapshot of what is outstanding when it begins, waits for exactly that, and
raises :class:`SendFailed` when any send failed since the worker started. The
offsets the commit chose were acked before the flush began, so every output
and changelog write they cover is in the snapshot; writes made meanwhile
belong to later commits and cannot postpone this one.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from faust.transport.drivers.aiokafka import Producer
from faust.transport.producer import ProducerBuffer

__all__ = ["SendFailed", "SendLedger", "install", "ledger_of"]

_LEDGER = "_shopstream_send_ledger"
_original_put = ProducerBuffer.put
_original_send = Producer.send


class SendFailed(RuntimeError):
    """A send was refused by the broker: the offsets it covers must not be committed."""


class SendLedger:
    """The sends of one producer the broker has not answered yet, and the first refusal."""

    def __init__(self) -> None:
        self.outstanding: set[asyncio.Future[Any]] = set()
        self.failures = 0
        self.first_failure: BaseException | None = None

    def track(self, fut: asyncio.Future[Any]) -> None:
        """Remember ``fut`` until it is done; count it if it fails."""
        if fut.done():
            self._settled(fut)
            return
        self.outstanding.add(fut)
        fut.add_done_callback(self._settled)

    def _settled(self, fut: asyncio.Future[Any]) -> None:
        self.outstanding.discard(fut)
        if fut.cancelled():
            return
        exc = fut.exception()  # retrieved here, so asyncio does not log it again
        if exc is not None:
            self.failures += 1
            if self.first_failure is None:
                self.first_failure = exc

    def snapshot(self) -> list[asyncio.Future[Any]]:
        """What is outstanding now (sends made later are not in it)."""
        return list(self.outstanding)

    def check(self) -> None:
        """Raise :class:`SendFailed` if any send failed so far."""
        if self.failures:
            raise SendFailed(
                f"{self.failures} send(s) refused by the broker, first: {self.first_failure!r}; "
                "the commit is refused"
            )


def ledger_of(buffer: ProducerBuffer) -> SendLedger:
    """The ledger of the producer owning ``buffer`` (created on first use)."""
    found: SendLedger | None = buffer.__dict__.get(_LEDGER)
    if found is None:
        found = buffer.__dict__[_LEDGER] = SendLedger()
    return found


def _put(self: ProducerBuffer, fut: Any) -> None:
    """Buffer ``fut`` as Faust does, and keep it in the ledger until the broker answered."""
    ledger_of(self).track(fut)
    _original_put(self, fut)


async def _send(self: Producer, *args: Any, **kwargs: Any) -> Any:
    """Hand the message to aiokafka as Faust does, and keep its future in the ledger."""
    fut: Any = await _original_send(self, *args, **kwargs)
    ledger_of(cast(ProducerBuffer, self.buffer)).track(fut)
    return fut


async def _hand_over_buffered(buffer: ProducerBuffer) -> None:
    """Send what is still buffered when the buffer's own task no longer runs (shutdown)."""
    while not buffer.pending.empty():
        await buffer._send_pending(buffer.pending.get_nowait())


async def _flush(self: Producer) -> None:
    """Wait for every send outstanding now; raise if any send failed (module docstring)."""
    buffer = cast(ProducerBuffer, self.buffer)
    ledger = ledger_of(buffer)
    waiting = ledger.snapshot()
    if buffer.should_stop or buffer.state != "running":
        await _hand_over_buffered(buffer)
    if waiting:
        await asyncio.wait(waiting)
    ledger.check()


def install() -> None:
    """Patch the buffer, the send and the flush (idempotent)."""
    if ProducerBuffer.put is not _put:
        ProducerBuffer.put = _put  # type: ignore[method-assign]
    if Producer.send is not _send:
        Producer.send = _send  # type: ignore[method-assign]
    if Producer.flush is not _flush:
        Producer.flush = _flush  # type: ignore[method-assign]
