"""Speed-up: a worker registers its tables at start without Faust's fixed one-second wait.

faust-streaming 0.15.3's ``TableManager.on_start`` (``tables/manager.py:138-143``)
sleeps one second before it registers the tables' changelog channels and
starts the recovery, so that tables an app creates while it starts are
registered too. The Conductor waits for that registration before the consumer
subscribes, so every worker start and restart joins its group a second later.
Every ShopStream table is created at import time, by the App's autodiscovery
(``App.main`` runs it before the worker starts), so the second buys nothing.
It costs where restarts are timed: a static member must be back within its
session timeout (10 s) for its partitions to stay put, and a slow host's
restart took 7-10 s of that (``test_static_membership``).

A table created after the registration still fails loudly, as in Faust
(``TableManager.add``: "Too late to add tables at this point").
"""

from __future__ import annotations

from faust.tables.manager import TableManager

__all__ = ["install"]


async def _on_start(self: TableManager) -> None:
    """Faust's ``TableManager.on_start`` without its ``sleep(1.0)``: the tables exist already."""
    if not self.should_stop:
        await self._update_channels()
        await self.recovery.start()


def install() -> None:
    """Replace ``TableManager.on_start`` (idempotent)."""
    if TableManager.on_start is not _on_start:
        TableManager.on_start = _on_start  # type: ignore[method-assign]
