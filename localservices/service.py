"""What every local service (Kafka, the schema registry) offers its users: start, stop, ``with``.

A service implements ``start()`` (returns itself once ready) and ``stop()``
(idempotent); this base class turns them into the ``with`` and ``async with``
protocols, the async ones on a thread because starting a JVM blocks.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Self

__all__ = ["LocalService"]


class LocalService:
    """``with`` / ``async with`` on top of ``start()`` and ``stop()``."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)
