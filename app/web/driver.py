"""The web server driver of a ShopStream worker: Faust's aiohttp server, minus its index.

Faust mounts a production index (``{"status": "OK"}``) at ``/`` whenever
``web_stats_enabled`` is off and has no setting to switch it off; in
ShopStream ``/`` is the live dashboard (DESIGN.md). The driver is selected
with ``web="shopstream://"`` on the App and found through the
``faust.web.drivers`` entry point declared in ``pyproject.toml``, Faust's
plugin mechanism for web drivers. Everything else is Faust's driver as is.
"""

from __future__ import annotations

from typing import Any, ClassVar

from faust.web.drivers.aiohttp import Web as AiohttpWeb

__all__ = ["ShopStreamWeb"]


class ShopStreamWeb(AiohttpWeb):
    """Faust's aiohttp web server without the production index blueprint at ``/``."""

    production_blueprints: ClassVar[list[tuple[str, Any]]] = []
