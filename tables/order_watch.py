"""Wake-ups for ``GET /orders/{id}?wait_for=STATUS``: the agent notifies, views wait.

Only the worker that owns an order's partition writes its state, and
``table_route`` sends the waiting request to that worker, so an in-process
registry is enough: the agent calls :func:`notify` after storing a new state
and every waiter of that order re-checks its condition. Nothing here is
business state; losing it on a crash only ends the waits early (504).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

__all__ = ["notify", "wait_for_change"]

_waiters: defaultdict[str, set[asyncio.Event]] = defaultdict(set)


def notify(order_id: str) -> None:
    """Wake everyone waiting on this order (cheap when nobody is)."""
    for event in _waiters.get(order_id, ()):
        event.set()


async def wait_for_change(order_id: str, timeout: float) -> bool:
    """Wait until the order's state changes or the time is up; True if it changed."""
    event = asyncio.Event()
    _waiters[order_id].add(event)
    try:
        await asyncio.wait_for(event.wait(), timeout)
        return True
    except TimeoutError:
        return False
    finally:
        _waiters[order_id].discard(event)
        if not _waiters[order_id]:
            del _waiters[order_id]
