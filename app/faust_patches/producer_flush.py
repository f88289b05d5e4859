"""Commits wait until buffered table updates are acknowledged (faust-streaming 0.15.3 defect).

Table writes go to the changelog through Faust's ``ProducerBuffer``
(``send_soon``). Before committing input offsets, Faust flushes the producer,
but ``ProducerBuffer.flush`` gives up as soon as 0.1 s pass without a
buffered message being handed to the Kafka client (``flush_atmost`` returns
on that timeout) and never waits for the broker's acknowledgement of what it
handed over. On a busy worker the commit then overtakes changelog writes
still in the buffer; a SIGKILL at that moment loses them for good: the
offsets say "processed", the changelog never got the new state, and the
worker (or standby) that takes over restores the old one. The scale-out and
worker-crash tests caught it as lost orders and payments.

:func:`install` makes the buffer remember every message put into it until the
broker acknowledged (or refused) it, and makes ``flush`` wait for all of
them, so an offset is committed only after the table updates it covers are
on the broker.
"""

from __future__ import annotations

import asyncio
from typing import Any

from faust.transport.producer import ProducerBuffer

__all__ = ["install"]

_OUTSTANDING = "_shopstream_outstanding"
_original_put = ProducerBuffer.put
_original_flush = ProducerBuffer.flush


def _outstanding(buffer: ProducerBuffer) -> set[asyncio.Future[Any]]:
    found: set[asyncio.Future[Any]] | None = buffer.__dict__.get(_OUTSTANDING)
    if found is None:
        found = set()
        buffer.__dict__[_OUTSTANDING] = found
    return found


def _put(self: ProducerBuffer, fut: Any) -> None:
    """Buffer ``fut`` as Faust does, and remember it until the broker answered."""
    outstanding = _outstanding(self)
    outstanding.add(fut)
    fut.add_done_callback(outstanding.discard)
    _original_put(self, fut)


async def _flush(self: ProducerBuffer) -> None:
    """Drain as Faust does, then wait until every buffered message was acknowledged."""
    await _original_flush(self)
    while self.state == "running" and (pending := list(_outstanding(self))):
        await asyncio.wait(pending, timeout=1.0)
        if not self.should_stop and self.size:  # Faust's drain gave up again: keep it going
            await _original_flush(self)


def install() -> None:
    """Make ``ProducerBuffer.flush`` wait for every buffered message's acknowledgement (idempotent)."""
    if ProducerBuffer.put is not _put:
        ProducerBuffer.put = _put  # type: ignore[method-assign]
        ProducerBuffer.flush = _flush  # type: ignore[method-assign]
