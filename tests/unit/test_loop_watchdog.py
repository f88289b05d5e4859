"""A held event loop is reported with what held it (:mod:`app.monitoring.loop_watchdog`)."""

from __future__ import annotations

import asyncio
import time

from app.monitoring.loop_watchdog import LoopWatchdog, stack_of


def _hold_the_loop(seconds: float) -> None:
    time.sleep(seconds)  # what a long synchronous step does to every other task


async def test_a_held_loop_is_reported_once_with_its_stack_and_then_its_length() -> None:
    reports: list[str] = []
    watchdog = LoopWatchdog(
        asyncio.get_running_loop(), threshold=0.5, beat=0.05, report=reports.append
    )
    watchdog.start()
    try:
        await asyncio.sleep(0.1)
        _hold_the_loop(1.5)
        await asyncio.sleep(0.5)
    finally:
        watchdog.stop()
    # A busy test machine may hold the loop now and then too: look for this stall's reports.
    held = [r for r in reports if r.startswith("event loop held for")]
    assert sum("_hold_the_loop" in r for r in held) == 1, reports
    assert any(r.startswith("event loop turned again after") for r in reports), reports
    assert watchdog.longest >= 1.4


def test_the_stack_of_a_thread_names_its_innermost_frames() -> None:
    import threading

    stack = stack_of(threading.get_ident(), frames=3)
    assert "test_the_stack_of_a_thread_names_its_innermost_frames" in stack
    assert stack_of(-1) == "  (thread gone)"
