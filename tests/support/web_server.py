"""The App's aiohttp web application as a worker builds it, without Kafka.

A worker imports every view (autodiscovery) and only then applies Faust's
blueprints (``Web.init_server``); tests that look at routes must do the same in
that order, or they see a router a worker never has. :func:`built_web_app`
does it once per process and returns the aiohttp application, ready for
``aiohttp.test_utils.TestServer``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

__all__ = ["FAUST_INTERNAL_PREFIXES", "built_web_app", "registered_routes"]

#: Paths Faust serves for itself (request routing between workers), not ShopStream's API.
FAUST_INTERNAL_PREFIXES = ("/router",)


def built_web_app() -> web.Application:
    from app.main import app

    app.discover()
    if not app.web.blueprints.applied:
        app.web.init_server()
    web_app: Any = app.web.web_app  # type: ignore[attr-defined]
    return web_app  # type: ignore[no-any-return]


def registered_routes(web_app: web.Application) -> dict[str, set[str]]:
    """Path -> HTTP methods (without HEAD/OPTIONS), as the aiohttp router holds them."""
    routes: dict[str, set[str]] = {}
    for route in web_app.router.routes():
        if route.method in ("HEAD", "OPTIONS"):
            continue
        routes.setdefault(route.resource.canonical, set()).add(route.method)  # type: ignore[union-attr]
    return routes
