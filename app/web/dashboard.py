"""The live dashboard: ``GET /`` (page), ``GET /static/{name}`` (its JS and CSS) and
``GET /dashboard/events`` (server-sent events, one JSON snapshot every ~2 s).

The page, script and stylesheet ship in ``app/web/static`` (package data) and load
nothing from elsewhere, so the dashboard works offline; a Content-Security-Policy
header holds the page to that.

``/`` belongs to the dashboard, not to Faust: the worker's web driver
(:mod:`app.web.driver`) leaves out Faust's production index, so exactly one
route answers ``/``; ``tests/unit/test_web_routes.py`` proves it on the built
aiohttp router.

The event stream is an aiohttp ``StreamResponse`` returned from a Faust view
(Faust's aiohttp driver hands views aiohttp's own request and passes a returned
aiohttp response through). A client that goes away ends its stream at once
(the driver cancels abandoned handlers); server shutdown ends every stream
through aiohttp's ``on_shutdown`` signal, so stopping a worker never waits on
open dashboards. At most ``SHOPSTREAM_MAX_SSE_CLIENTS`` streams are open at
once; one more is answered 503 with ``Retry-After`` (:mod:`app.web.access`).
"""

from __future__ import annotations

import contextlib
from importlib import resources
from typing import Any, Final, cast

import aiohttp
from aiohttp import web as aioweb
from faust.web import Request, Response, View

from app.main import app, settings
from app.monitoring import metrics as shop_metrics
from app.web.access import Admission, AtCapacity
from app.web.dashboard_feed import DASHBOARD_EVENTS_PATH, SnapshotHub, compose_snapshot, sse_event
from app.web.responses import json_error

__all__ = [
    "DASHBOARD_EVENTS_PATH",
    "STATIC_FILES",
    "hub",
    "loopback_base_url",
    "stream_clients",
]

SNAPSHOT_INTERVAL_SECONDS: Final = 2.0
#: Per-source limit; the order-status source fans out to peers (2 s each at most).
SOURCE_TIMEOUT_SECONDS: Final = 3.0
#: EventSource reconnects after this many ms when the stream breaks (worker restart).
RECONNECT_MILLIS: Final = 3000

#: The files ``/static/{name}`` serves, with their media types; nothing else is exposed.
STATIC_FILES: Final = {
    "dashboard.css": "text/css",
    "dashboard.js": "text/javascript",
}
_PAGE: Final = "dashboard.html"
_CSP: Final = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def _static_bytes(name: str) -> bytes:
    return (resources.files("app.web") / "static" / name).read_bytes()


def loopback_base_url() -> str:
    """How this worker reaches its own web server (the bind address, or 127.0.0.1)."""
    bind = str(app.conf.web_bind)
    host = "127.0.0.1" if bind in ("", "0.0.0.0") else "[::1]" if bind == "::" else bind
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{app.conf.web_port}"


async def _fetch(path: str) -> tuple[int, Any]:
    """GET one API path over loopback; the body only when the answer is a 200."""
    timeout = aiohttp.ClientTimeout(total=SOURCE_TIMEOUT_SECONDS)
    try:
        async with app.http_client.get(loopback_base_url() + path, timeout=timeout) as response:
            body = await response.json(content_type=None) if response.status == 200 else None
            status = response.status
    except Exception:
        shop_metrics.DASHBOARD_SOURCE_FAILURES.labels(source=path.split("?")[0]).inc()
        raise
    if status != 200:
        shop_metrics.DASHBOARD_SOURCE_FAILURES.labels(source=path.split("?")[0]).inc()
    return status, body


async def _compose() -> dict[str, Any]:
    return await compose_snapshot(_fetch)


_last_encoded: tuple[dict[str, Any], bytes] | None = None


def _encoded(snapshot: dict[str, Any]) -> bytes:
    """The snapshot as one event, encoded once for all clients (500 streams: one dumps)."""
    global _last_encoded
    if _last_encoded is None or _last_encoded[0] is not snapshot:
        _last_encoded = (snapshot, sse_event(snapshot))
    return _last_encoded[1]


#: One poller per worker, shared by every connected browser.
hub = SnapshotHub(_compose, interval=SNAPSHOT_INTERVAL_SECONDS)
#: Open event streams; beyond ``SHOPSTREAM_MAX_SSE_CLIENTS`` a new one gets a 503.
stream_clients = Admission("sse", settings.max_sse_clients)


async def _end_streams(_web_app: aioweb.Application) -> None:
    await hub.close()


cast(Any, app.web).web_app.on_shutdown.append(_end_streams)


@app.page("/")
class DashboardView(View):
    """The dashboard page; its data arrives over ``/dashboard/events``."""

    async def get(self, request: Request) -> Response:
        headers = {
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-cache",
            "Content-Security-Policy": _CSP,
        }
        return self.bytes(_static_bytes(_PAGE), headers=headers)


@app.page("/static/{name}")
class StaticView(View):
    """The dashboard's script and stylesheet (a fixed list, no directory listing)."""

    async def get(self, request: Request, name: str) -> Response:
        content_type = STATIC_FILES.get(name)
        if content_type is None:
            return json_error(self, f"no static file {name[:64]!r}", status=404)
        headers = {"Content-Type": f"{content_type}; charset=utf-8", "Cache-Control": "no-cache"}
        return self.bytes(_static_bytes(name), headers=headers)


@app.page(DASHBOARD_EVENTS_PATH)
class DashboardEventsView(View):
    """``text/event-stream`` of dashboard snapshots until the client or the server leaves."""

    async def get(self, request: Request) -> Response:
        try:
            with stream_clients.slot():
                return cast(Response, await self._stream(cast(aioweb.Request, request)))
        except AtCapacity as full:
            return cast(Response, full.response())

    async def _stream(self, request: aioweb.Request) -> aioweb.StreamResponse:
        response = aioweb.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",  # proxies must not hold events back
            }
        )
        await response.prepare(request)
        try:
            await response.write(f"retry: {RECONNECT_MILLIS}\n\n".encode())
            async with contextlib.aclosing(hub.stream()) as snapshots:
                async for snapshot in snapshots:
                    await response.write(_encoded(snapshot))
        except ConnectionResetError:  # the browser went away (aiohttp's write error)
            pass
        return response
