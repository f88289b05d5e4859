"""``app.kafka.fatal``: the commit gate closes at once, for good, and the process cannot hang."""

from __future__ import annotations

import threading

import pytest

from app.kafka import fatal


@pytest.fixture
def fresh_gate(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A gate of its own per test, and a watchdog that only records its grace period."""
    monkeypatch.setattr(fatal, "_gate_closed", threading.Event())
    started: list[float] = []
    monkeypatch.setattr(fatal, "_start_watchdog", lambda: started.append(fatal.STOP_GRACE_SECONDS))
    return started


def test_stop_worker_closes_the_gate_before_it_returns_and_only_once(
    fresh_gate: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    assert fatal.commits_allowed()
    fatal.stop_worker("send to order-status failed", TimeoutError("no broker"))
    assert not fatal.commits_allowed()
    fatal.stop_worker("a second failure while stopping")
    assert not fatal.commits_allowed()
    assert fresh_gate == [fatal.STOP_GRACE_SECONDS]  # one watchdog
    critical = [r.getMessage() for r in caplog.records if r.levelname == "CRITICAL"]
    assert critical == ["FATAL: worker stops without committing: send to order-status failed"]
