"""Many clients asking the same question at once get one answer, computed once.

Cluster answers (analytics, order-status counts) cost a fan-out to every
worker and a scan of each worker's partitions. Under a burst of identical
requests (a crowd of dashboards, a client retrying in a loop) computing each
one would starve the agents, which share the event loop with the web server.
:class:`SharedAnswers` runs one computation per key at a time, hands its
result to every caller waiting for it, and keeps it for ``ttl`` seconds. A
caller that goes away (its client hung up) does not cancel the computation
the others wait for. A failure is not kept: the next caller tries again.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["SharedAnswers"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SharedAnswers(Generic[K, V]):
    """One computation per key at a time; its answer reused for ``ttl`` seconds."""

    def __init__(self, ttl: float, *, max_keys: int = 256) -> None:
        self._ttl = ttl
        self._max_keys = max_keys
        self._entries: dict[K, tuple[float, asyncio.Future[V]]] = {}

    async def get(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is None or (entry[1].done() and now - entry[0] >= self._ttl):
            entry = (now, asyncio.ensure_future(compute()))
            self._entries[key] = entry
            entry[1].add_done_callback(functools.partial(self._forget_failure, key))
            self._prune(now)
        return await asyncio.shield(entry[1])

    def _forget_failure(self, key: K, done: asyncio.Future[V]) -> None:
        current = self._entries.get(key)
        if current is not None and current[1] is done and (done.cancelled() or done.exception()):
            del self._entries[key]

    def _prune(self, now: float) -> None:
        if len(self._entries) <= self._max_keys:
            return
        for key, (started, future) in list(self._entries.items()):
            if future.done() and now - started >= self._ttl:
                del self._entries[key]
