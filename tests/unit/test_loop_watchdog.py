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
        asyncio.get_running_loop(), threshold=0.2, beat=0.05, report=reports.append
    )
    watchdog.start()
    try:
        await asyncio.sleep(0.3)
        assert reports == []  # a loop that turns is not reported
        _hold_the_loop(1.0)
        await asyncio.sleep(0.5)
    finally:
        watchdog.stop()
    held = [r for r in reports if r.startswith("event loop held for")]
    turned = [r for r in reports if r.startswith("event loop turned again after")]
    assert len(held) == 1, reports
    assert "_hold_the_loop" in held[0]
    assert len(turned) == 1, reports
    assert watchdog.longest >= 0.8


def test_the_stack_of_a_thread_names_its_innermost_frames() -> None:
    import threading

    stack = stack_of(threading.get_ident(), frames=3)
    assert "test_the_stack_of_a_thread_names_its_innermost_frames" in stack
    assert stack_of(-1) == "  (thread gone)"
