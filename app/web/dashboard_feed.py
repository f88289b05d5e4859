"""The dashboard's live feed: one snapshot of the HTTP API every couple of seconds.

The dashboard (``GET /``) shows what the public API answers, nothing more: a
snapshot is composed by calling this worker's own endpoints (see
:data:`SOURCES`) over loopback, so the page stays decoupled from the analytics
internals and is correct across workers (those endpoints merge partitions
themselves). An endpoint that is missing or failing leaves its section
``null`` and names the reason in ``unavailable``; the page then shows "—".

:class:`SnapshotHub` makes the cost independent of the number of browsers: one
poller per worker runs while at least one client listens, every client gets
the newest snapshot (a slow client skips stale ones instead of queueing them),
and a new client gets the latest snapshot at once instead of waiting for the
next tick. Nothing here knows about Faust or aiohttp's server side; the views
in :mod:`app.web.dashboard` plug in the HTTP client and the event stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Final

import orjson

from domain.timefmt import format_time, now_utc

__all__ = [
    "DASHBOARD_EVENTS_PATH",
    "SOURCES",
    "WINDOW_MINUTES",
    "Fetch",
    "SnapshotHub",
    "compose_snapshot",
    "sse_event",
]

logger = logging.getLogger(__name__)

#: The event stream of snapshots (served by :mod:`app.web.dashboard`).
DASHBOARD_EVENTS_PATH: Final = "/dashboard/events"
#: Range of the windowed sections, in minutes of event time.
WINDOW_MINUTES: Final = 60

#: Snapshot section -> the API call that fills it (path and query).
SOURCES: Final[Mapping[str, str]] = {
    "revenue": f"/analytics/revenue?minutes={WINDOW_MINUTES}",
    "top_products": f"/analytics/top-products?n=10&minutes={WINDOW_MINUTES}",
    "funnel": f"/analytics/funnel?minutes={WINDOW_MINUTES}",
    "sessions": "/analytics/sessions",
    "order_status": "/analytics/order-status-counts",
    "operations": "/operations",
}

#: GET a path of the API; returns (HTTP status, decoded JSON body or None).
Fetch = Callable[[str], Awaitable[tuple[int, Any]]]


async def compose_snapshot(fetch: Fetch, *, now: datetime | None = None) -> dict[str, Any]:
    """Call every source concurrently; never raises for a source that fails."""
    results = await asyncio.gather(
        *(fetch(path) for path in SOURCES.values()), return_exceptions=True
    )
    snapshot: dict[str, Any] = {
        "generated_at": format_time(now or now_utc()),
        "window_minutes": WINDOW_MINUTES,
    }
    unavailable: dict[str, str] = {}
    for name, result in zip(SOURCES, results, strict=True):
        snapshot[name] = None
        if isinstance(result, BaseException):
            unavailable[name] = type(result).__name__
            continue
        status, body = result
        if status == 200 and isinstance(body, dict):
            snapshot[name] = body
        else:
            unavailable[name] = f"HTTP {status}"
    snapshot["unavailable"] = unavailable
    return snapshot


def sse_event(data: Mapping[str, Any], *, event: str = "snapshot") -> bytes:
    """One server-sent event; orjson never emits newlines, so ``data`` is one line."""
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class SnapshotHub:
    """Fan one poller's snapshots out to every listening client (see the module doc)."""

    def __init__(
        self, compose: Callable[[], Awaitable[dict[str, Any]]], *, interval: float = 2.0
    ) -> None:
        self._compose = compose
        self._interval = interval
        self._queues: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._latest: dict[str, Any] | None = None
        self._poller: asyncio.Task[None] | None = None

    @property
    def listeners(self) -> int:
        return len(self._queues)

    @property
    def polling(self) -> bool:
        return self._poller is not None and not self._poller.done()

    async def stream(self) -> AsyncGenerator[dict[str, Any], None]:
        """Snapshots until :meth:`close`; use with ``contextlib.aclosing`` so leaving unsubscribes."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=1)
        self._queues.add(queue)
        if self._latest is not None:
            queue.put_nowait(self._latest)
        if not self.polling:
            self._poller = asyncio.create_task(self._poll(), name="dashboard-snapshots")
        try:
            while (snapshot := await queue.get()) is not None:
                yield snapshot
        finally:
            self._queues.discard(queue)
            if not self._queues:
                self._stop_polling()

    async def close(self) -> None:
        """End every stream (server shutdown); the hub can serve new streams afterwards."""
        for queue in list(self._queues):
            self._offer(queue, None)
        poller = self._stop_polling()
        if poller is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await poller

    def _stop_polling(self) -> asyncio.Task[None] | None:
        poller, self._poller, self._latest = self._poller, None, None
        if poller is not None:
            poller.cancel()
        return poller

    @staticmethod
    def _offer(queue: asyncio.Queue[dict[str, Any] | None], item: dict[str, Any] | None) -> None:
        """Put ``item``, replacing what the client has not read yet: newest wins."""
        if queue.full():
            queue.get_nowait()
        queue.put_nowait(item)

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        while self._queues:
            started = loop.time()
            try:
                snapshot = await self._compose()
            except Exception:
                logger.exception("dashboard snapshot failed; retrying")
            else:
                self._latest = snapshot
                for queue in list(self._queues):
                    self._offer(queue, snapshot)
            await asyncio.sleep(max(0.0, self._interval - (loop.time() - started)))
