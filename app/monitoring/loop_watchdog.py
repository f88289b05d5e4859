"""Says what held the worker's event loop when it stopped turning for a second or more.

Everything a worker does shares one event loop: the agents' batches, Faust's
commit timer, the consumer's heartbeats, the HTTP views. Faust notices a held
loop only afterwards ("Timer commit woke up too late, with a drift of +7.27"),
and never says what held it. A :class:`LoopWatchdog` does: a callback on the
loop marks every :data:`BEAT_SECONDS` that the loop turned, and a daemon thread
that finds the mark older than :data:`THRESHOLD_SECONDS` logs the loop
thread's stack at that moment, once per stall, and the stall's length when
the loop turns again. That is how session 14 found a route going through its
whole backlog in one step (``app/faust_patches/batch_delivery.py``,
``BatchRoute.run``).

Costs: the callback runs 4 times a second, the thread wakes 4 times a second
and takes the GIL for a few microseconds. No Faust here: the worker starts it
(``watch_the_event_loop`` in :mod:`app.main`), the unit tests drive it alone.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Final

from prometheus_client import Counter, Gauge

__all__ = ["BEAT_SECONDS", "THRESHOLD_SECONDS", "LoopWatchdog", "stack_of"]

logger = logging.getLogger(__name__)

#: How often the loop marks that it turned (and the watching thread looks).
BEAT_SECONDS: Final = 0.25
#: A loop that did not turn for this long is reported, with what it was running.
THRESHOLD_SECONDS: Final = 1.0
#: Innermost frames of the loop thread's stack put in the report.
STACK_FRAMES: Final = 12

LOOP_STALLS = Counter(
    "shopstream_event_loop_stalls",
    "Times the worker's event loop did not turn for THRESHOLD_SECONDS (1 s) or more",
)
LONGEST_STALL = Gauge(
    "shopstream_event_loop_longest_stall_seconds",
    "Longest time the worker's event loop went without turning, since start",
)


def stack_of(thread_id: int, frames: int = STACK_FRAMES) -> str:
    """The innermost ``frames`` of a thread's stack, one ``file:line function`` per line."""
    frame = sys._current_frames().get(thread_id)
    if frame is None:
        return "  (thread gone)"
    summary = traceback.extract_stack(frame)[-frames:]
    return "\n".join(f"  {entry.filename}:{entry.lineno} {entry.name}" for entry in summary)


class LoopWatchdog:
    """Watches one running event loop from a daemon thread (see the module docstring)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        threshold: float = THRESHOLD_SECONDS,
        beat: float = BEAT_SECONDS,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.loop = loop
        self.threshold = threshold
        self.beat = beat
        self._report = report or logger.warning
        self._loop_thread = threading.get_ident()  # made on the loop's thread
        self._last_turn = time.monotonic()
        self._stop = threading.Event()
        self._handle: asyncio.TimerHandle | None = None
        self._thread = threading.Thread(target=self._watch, name="loop-watchdog", daemon=True)
        #: The longest stall seen, in seconds (also the gauge).
        self.longest = 0.0

    def start(self) -> None:
        """Start marking turns and watching (call on the loop's thread, the loop running)."""
        self._mark()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._handle is not None:
            self._handle.cancel()

    def _mark(self) -> None:
        self._last_turn = time.monotonic()
        if not self._stop.is_set():
            self._handle = self.loop.call_later(self.beat, self._mark)

    def _watch(self) -> None:
        stalled_since: float | None = None
        while not self._stop.wait(self.beat):
            if not self.loop.is_running():  # stopped (a worker's shutdown): nothing turns it
                continue
            last = self._last_turn
            held = time.monotonic() - last
            if held >= self.threshold and stalled_since != last:
                stalled_since = last
                LOOP_STALLS.inc()
                self._report(
                    f"event loop held for {held:.1f} s so far; it is running:\n"
                    + stack_of(self._loop_thread)
                )
            elif stalled_since is not None and last != stalled_since:
                length = last - stalled_since
                if length > self.longest:
                    self.longest = length
                    LONGEST_STALL.set(length)
                self._report(f"event loop turned again after {length:.1f} s")
                stalled_since = None
