"""Fatal stop: the worker stops, and commits nothing more, when processing cannot go on safely.

Every exception in an agent's handling of a record ends in one of two ways.
Either it is the record's fault (undecodable, invalid, refused by the domain)
and the agent dead-letters the record and moves on; or it is not (a send the
broker keeps refusing, a table write that fails, a dead-letter send that
fails, a bug), and then the record must be processed again by a healthy
worker. Faust's own reaction is the wrong one: it restarts the crashed agent
and the record counts as acknowledged, so the next offset commit skips it
(FAUST_NOTES, "Agent crashes ack").

:func:`stop_worker` is the one way out for the second case. It closes the
*commit gate* at once, before it returns: from then on this process commits
no offset at all (:mod:`app.faust_patches.fatal_stop` checks the gate at the
last moment before offsets go to the broker), so whatever was not committed
before, the failed record included, is delivered again to the partition's
next owner. Then it stops the worker: Faust's own crash path (``app.crash``)
makes ``shopstream worker`` exit with status 1; a watchdog thread ends the
process with status 70 if that graceful stop hangs.

Closing the gate rather than "not acking" the record is deliberate: Faust can
commit past one unacknowledged offset (``Consumer._new_offset``), acks the
record anyway when the abandoned stream iterator is closed, and acks a whole
``take_events`` batch in its ``finally``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Final

from prometheus_client import Counter

from app.monitoring.metrics import METRICS_REGISTRY

__all__ = [
    "EXIT_STATUS_HUNG_STOP",
    "STOP_GRACE_SECONDS",
    "WorkerStopping",
    "commits_allowed",
    "stop_worker",
]

logger = logging.getLogger(__name__)

#: How long the graceful stop may take before the watchdog ends the process.
STOP_GRACE_SECONDS: Final = 60.0
#: The watchdog's exit status (EX_SOFTWARE): the stop hung, nothing was committed.
EXIT_STATUS_HUNG_STOP: Final = 70

FATAL_STOPS: Final = Counter(
    "shopstream_fatal_stops",
    "Times this worker stopped without committing because processing could not go on safely.",
    registry=METRICS_REGISTRY,
)

_gate_closed = threading.Event()  # thread-safe, should Faust's consumer run in a thread again
_stopping: list[asyncio.Task[None]] = []  # the crash task, kept so it is not collected


class WorkerStopping(RuntimeError):
    """Why the worker stopped without committing (the crash reason Faust reports)."""


def commits_allowed() -> bool:
    """Whether this process may still commit offsets (False after :func:`stop_worker`)."""
    return not _gate_closed.is_set()


def stop_worker(reason: str, cause: BaseException | None = None) -> None:
    """Close the commit gate now, then stop the worker (non-zero exit); idempotent.

    Synchronous on purpose: callable from an agent, a done-callback or a
    timer, and the gate is closed before it returns, so no commit that starts
    afterwards can cover the failed record.
    """
    if _gate_closed.is_set():
        logger.error("while stopping: %s", reason, exc_info=cause)
        return
    _gate_closed.set()
    FATAL_STOPS.inc()
    logger.critical("FATAL: worker stops without committing: %s", reason, exc_info=cause)
    _start_watchdog()
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no loop in this thread (a unit test): the gate is what matters
        return
    _stopping.append(loop.create_task(_crash_app(WorkerStopping(reason))))


async def _crash_app(reason: WorkerStopping) -> None:
    from app.main import app  # here: this module is imported by the App's own patches

    await app.crash(reason)


def _start_watchdog() -> None:
    def end_process() -> None:
        logger.critical(
            "FATAL: the worker did not stop within %.0f s; exiting with status %d",
            STOP_GRACE_SECONDS,
            EXIT_STATUS_HUNG_STOP,
        )
        logging.shutdown()
        os._exit(EXIT_STATUS_HUNG_STOP)

    watchdog = threading.Timer(STOP_GRACE_SECONDS, end_process)
    watchdog.daemon = True
    watchdog.name = "shopstream-fatal-watchdog"
    watchdog.start()
