"""The web server driver of a ShopStream worker: Faust's aiohttp server, with three changes.

* **No index at ``/``.** Faust mounts a production index (``{"status": "OK"}``)
  at ``/`` whenever ``web_stats_enabled`` is off and has no setting to switch
  it off; in ShopStream ``/`` is the live dashboard (DESIGN.md).
* **A handler ends when its client goes** (aiohttp's ``handler_cancellation``).
  Without it a long-poll (``/orders/{id}?wait_for=...``, up to 300 s) or a
  forwarded one kept waiting, and holding its slot, after the client had hung
  up; now the handler is cancelled, and a forwarding worker's cancelled request
  hangs up on the owner in turn. Every view here only reads, so cancelling one
  midway leaves nothing half done.
* **Internal paths need the cluster token** (:func:`app.web.access.cluster_token_guard`),
  and ordinary requests take turns (:class:`app.web.access.RequestTurns`).

The driver is selected with ``web="shopstream://"`` on the App and found
through the ``faust.web.drivers`` entry point declared in ``pyproject.toml``,
Faust's plugin mechanism for web drivers. Everything else is Faust's driver as is.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

from aiohttp.web import AppRunner, BaseSite, TCPSite
from faust.web.drivers.aiohttp import Web as AiohttpWeb

from app.web.access import cluster_token_guard

__all__ = ["LISTEN_BACKLOG", "ShopStreamWeb"]

#: Connections the kernel queues before accept (aiohttp's default, 128, drops bursts:
#: the clients retry their SYN after a second). The kernel caps it at net.core.somaxconn.
LISTEN_BACKLOG: Final = 4096


class ShopStreamWeb(AiohttpWeb):
    """Faust's aiohttp web server without its index, cancelling abandoned handlers."""

    production_blueprints: ClassVar[list[tuple[str, Any]]] = []

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        from app.main import settings  # the App exists by now: Faust builds its web lazily
        from app.web.routing import request_turns

        self.web_app.middlewares.append(cluster_token_guard(settings.cluster_token))
        self.web_app.middlewares.append(request_turns.middleware())
        self._runner = AppRunner(self.web_app, access_log=None, handler_cancellation=True)

    def _new_transport_tcp(self) -> BaseSite:
        return TCPSite(
            self._runner,
            self.app.conf.web_bind,
            self.app.conf.web_port,
            ssl_context=self.app.conf.web_ssl_context,
            backlog=LISTEN_BACKLOG,
        )
