"""Who may use a worker's web server, and how many at once.

Three rules; refusals are answered in JSON like every other error (DESIGN.md):

* **Internal paths are the group's.** A request for a worker-to-worker path
  (:data:`app.cluster.token.INTERNAL_PATH_PREFIXES`) must carry the cluster
  token when one is set; otherwise it gets a 403. The check runs on the route
  aiohttp matched, not on the raw path, so no spelling of a URL slips past it.
  Without a token the worker listens on loopback only (start-up refuses
  anything else, :meth:`app.settings.Settings.check_exposure`).
* **Held connections are capped.** A dashboard event stream or a long-poll
  holds a connection for seconds to minutes; :class:`Admission` counts them
  and, beyond the configured cap, the view answers 503 with ``Retry-After``
  at once instead of letting one worker collect connections without bound.
* **Ordinary requests take turns.** At most ``SHOPSTREAM_MAX_CONCURRENT_REQUESTS``
  are handled at once (:class:`RequestTurns`), so a burst of requests cannot
  crowd the agents out of the event loop they share with the web server.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Final

from aiohttp import web

from app.cluster.token import CLUSTER_TOKEN_HEADER, INTERNAL_PATH_PREFIXES
from app.monitoring.metrics import HTTP_HELD, HTTP_REFUSED
from app.web.dashboard_feed import DASHBOARD_EVENTS_PATH

__all__ = [
    "FORWARDED_ROUTES",
    "RETRY_AFTER_SECONDS",
    "Admission",
    "AtCapacity",
    "RequestTurns",
    "cluster_token_guard",
    "is_held",
    "is_internal_path",
]

#: What a refused client is told to wait before it tries again.
RETRY_AFTER_SECONDS: Final = 5

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_internal_path(canonical: str) -> bool:
    """Whether a route (its pattern, e.g. ``/internal/analytics/stats``) is worker-to-worker."""
    return canonical.startswith(INTERNAL_PATH_PREFIXES)


def cluster_token_guard(token: str | None) -> Callable[..., Awaitable[web.StreamResponse]]:
    """aiohttp middleware: internal routes need ``token`` in the cluster token header."""
    expected = None if token is None else token.encode()

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if expected is not None:
            resource = request.match_info.route.resource
            if resource is not None and is_internal_path(resource.canonical):
                given = request.headers.get(CLUSTER_TOKEN_HEADER, "").encode()
                if not hmac.compare_digest(given, expected):
                    return web.json_response(
                        {"error": f"internal path: the group's {CLUSTER_TOKEN_HEADER} is required"},
                        status=403,
                    )
        return await handler(request)

    return guard


def is_held(request: web.Request) -> bool:
    """Requests that hold their connection (event streams, long-polls), capped by Admission."""
    return request.path == DASHBOARD_EVENTS_PATH or "wait_for" in request.query


class RequestTurns:
    """At most ``limit`` ordinary requests are handled at once; the others wait their turn.

    The agents share the event loop with the web server. A burst of 2,000
    requests puts 2,000 handler steps in the loop's ready queue ahead of every
    agent step; with turns only ``limit`` are, the rest wait without using the
    CPU, and the agents keep their share. Requests wait, they are never refused.

    No turn is held while waiting on another worker, or two workers whose turns
    are all taken by requests waiting on each other would deadlock: internal
    paths (what the fan-out asks) are not limited, and keyed lookups, which
    Faust forwards to the key's owner (:data:`FORWARDED_ROUTES`), take their
    turn only where they are answered (:func:`app.web.routing.route_to_owner`).
    Held connections (:func:`is_held`) have their own caps.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)

    def turn(self) -> asyncio.Semaphore:
        """``async with turns.turn():`` around work done for one request."""
        return self._slots

    def middleware(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        @web.middleware
        async def take_turns(request: web.Request, handler: Handler) -> web.StreamResponse:
            resource = request.match_info.route.resource
            canonical = "" if resource is None else resource.canonical
            if is_held(request) or is_internal_path(canonical) or canonical in FORWARDED_ROUTES:
                return await handler(request)
            async with self._slots:
                return await handler(request)

        return take_turns


#: Routes of keyed lookups that may be forwarded to another worker (``route_to_owner``).
FORWARDED_ROUTES: Final = frozenset({"/orders/{order_id}", "/customers/{customer_id}"})


class AtCapacity(RuntimeError):
    """Every slot of an :class:`Admission` is taken; answer 503 with Retry-After."""

    def __init__(self, kind: str, limit: int) -> None:
        super().__init__(f"too many {kind.replace('_', ' ')} connections (limit {limit}); retry")
        self.kind = kind

    def response(self) -> web.Response:
        return web.json_response(
            {"error": str(self)},
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


class Admission:
    """At most ``limit`` holders at once of one kind of long-lived connection."""

    def __init__(self, kind: str, limit: int) -> None:
        self.kind = kind
        self.limit = limit
        self.held = 0
        self._gauge = HTTP_HELD.labels(kind=kind)
        HTTP_REFUSED.labels(kind=kind)  # defined from the first scrape on

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the ``with`` block; raises :class:`AtCapacity` when none is free."""
        if self.held >= self.limit:
            HTTP_REFUSED.labels(kind=self.kind).inc()
            raise AtCapacity(self.kind, self.limit)
        self.held += 1
        self._gauge.inc()
        try:
            yield
        finally:
            self.held -= 1
            self._gauge.dec()
