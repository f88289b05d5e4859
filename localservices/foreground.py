"""Run a local service in the foreground until Ctrl-C or SIGTERM, then stop it cleanly.

Shared by ``python -m localservices.kafka`` and ``python -m localservices.registry``.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from types import FrameType

__all__ = ["StopRequested", "stopping_on_signals"]


class StopRequested(BaseException):
    """Raised from the signal handler so a start in progress unwinds and cleans up."""


def _request_stop(signum: int, frame: FrameType | None) -> None:
    raise StopRequested(signum)


@contextlib.contextmanager
def stopping_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """Turn SIGINT and SIGTERM into a clean exit of the block; ``stop()`` always runs.

    A signal ends the block without an error (the code after it runs); a second
    signal while stopping is ignored. Must be used from the main thread; the
    previous handlers are restored afterwards.
    """
    previous = {sig: signal.signal(sig, _request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except StopRequested:
        pass
    finally:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not abort the stop
        stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
