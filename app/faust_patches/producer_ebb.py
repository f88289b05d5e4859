"""Speed-up and quiet log: a producer buffer of 1,000 messages, drained without a warning per record.

Table writes are queued in Faust's ``ProducerBuffer`` (``send_soon``) and
handed to aiokafka by a task of their own. Before delivering each fetched
record, the conductor calls ``wait_until_ebb``: above
``ProducerBuffer.max_messages`` (100, a class attribute) buffered messages it
logs a WARNING (``producer buffer full``) and an INFO line and waits until 100
were handed over. An agent that writes a few rows per record is above 100 at
almost every record under load: two log lines and a stall per record (the
issue's worker log had one warning per event). ``size`` also reads a setting
per call (``app.conf.producer_threaded``, a settings-registry lookup).

:func:`install` raises the limit to :data:`MAX_BUFFERED` and replaces
``wait_until_ebb`` with the same wait, logged at DEBUG, with the size read
from the queue directly (ShopStream does not use ``producer_threaded``).
Not more: every commit waits until what is buffered is acknowledged
(:mod:`~app.faust_patches.producer_flush`), and the buffer is handed to
aiokafka by one task, one message after another; with 10,000 a commit took up
to 10 s under the order backlog, with 1,000 3.5-5.4 s on the shared machine.
"""

from __future__ import annotations

import logging
import time
from typing import Final

from faust.transport.producer import ProducerBuffer

__all__ = ["MAX_BUFFERED", "install"]

logger = logging.getLogger(__name__)

#: Messages the buffer may hold before the conductor waits for it to drain.
MAX_BUFFERED: Final = 1_000


async def _wait_until_ebb(self: ProducerBuffer) -> None:
    """Faust's ``wait_until_ebb`` with the cheap size check and a DEBUG log line."""
    size = self.pending.qsize()
    if size > self.max_messages:
        started = time.monotonic()
        await self.flush_atmost(self.max_messages)
        logger.debug(
            "producer buffer held %d messages: drained for %.3fs", size, time.monotonic() - started
        )


def install() -> None:
    """Raise the limit and replace the wait (idempotent)."""
    ProducerBuffer.max_messages = MAX_BUFFERED
    if ProducerBuffer.wait_until_ebb is not _wait_until_ebb:
        ProducerBuffer.wait_until_ebb = _wait_until_ebb  # type: ignore[method-assign]
