"""SIGTERM and the local services' cleanup (:mod:`localservices.kafka.process`)."""

from __future__ import annotations

import signal
from types import FrameType

import pytest

from localservices.kafka import process


class _Owner:
    def __init__(self) -> None:
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


def test_a_program_with_its_own_sigterm_handler_decides_the_shutdown_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``make demo`` stops its worker before the broker: the broker must not go first."""
    owner = _Owner()
    handled: list[int] = []

    def programs_handler(signum: int, frame: FrameType | None) -> None:
        handled.append(signum)
        assert not owner.stopped  # the program's own stop comes first

    monkeypatch.setattr(process, "_previous_sigterm", programs_handler)
    monkeypatch.setitem(process._owners, id(owner), owner)
    process._on_sigterm(signal.SIGTERM, None)
    assert handled == [signal.SIGTERM]
    assert not owner.stopped  # left to the program, or to the exit hook
