"""Send a keyed lookup to the worker that owns the key, and fail as a 503, never a 500.

Faust's ``@app.table_route`` does the forwarding, but while partitions move
(start-up, a rebalance, a worker that just died) its lookups can raise
``KeyError``/``TypeError`` or the forward can fail, which the web server turns
into a 500. DESIGN.md wants JSON errors, and a client can retry a 503.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

import aiohttp
from aiohttp import web
from faust.exceptions import SameNode
from faust.types import CollectionT
from faust.web import Request, Response, View
from faust.web.exceptions import ServiceUnavailable

from app.main import app, settings
from app.web.access import RequestTurns, is_held

__all__ = ["request_turns", "route_to_owner"]

logger = logging.getLogger(__name__)

Handler = Callable[..., Awaitable[Response]]

#: The worker's request turns (:class:`app.web.access.RequestTurns`): keyed lookups take
#: theirs here, where they are answered, never while forwarded to the owner.
request_turns = RequestTurns(settings.max_concurrent_requests)

#: How long a lookup waits for a rebalance to settle before it answers 503.
ROUTING_PATIENCE_SECONDS = 10.0
UNROUTABLE = "the owner of this key is not known or not reachable right now; retry"

_ROUTING_ERRORS = (
    ServiceUnavailable,
    KeyError,
    TypeError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
)


def route_to_owner(table: CollectionT, *, match_info: str) -> Callable[[Handler], Handler]:
    """Decorate a view's ``get``: answer here if this worker owns the key, else forward."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def get(view: View, request: Request, *args: Any, **kwargs: Any) -> Response:
            key = request.match_info[match_info]
            deadline = time.monotonic() + ROUTING_PATIENCE_SECONDS
            while True:
                try:
                    return await app.router.route_req(table.name, key, view.web, request)
                except SameNode:
                    if is_held(cast(web.Request, request)):  # a long-poll: capped by its own cap
                        return await handler(view, request, *args, **kwargs)
                    async with request_turns.turn():
                        return await handler(view, request, *args, **kwargs)
                except _ROUTING_ERRORS as exc:
                    if time.monotonic() < deadline:
                        await asyncio.sleep(0.25)  # partitions are moving: ask again shortly
                        continue
                    logger.info("cannot route %s=%r: %r", match_info, key, exc)
                    return view.json({"error": UNROUTABLE}, status=503)

        return get

    return decorate
