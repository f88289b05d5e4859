"""Tables are registered at start without a fixed wait (:mod:`app.faust_patches.table_registration`).

Fails unpatched: Faust's ``TableManager.on_start`` sleeps a second first. That
every table exists before the worker starts is proven by every integration
test's worker (a late table raises "Too late to add tables at this point").
"""

from __future__ import annotations

from types import SimpleNamespace

from faust.tables.manager import TableManager

from app import faust_patches
from app.kafka import fatal


class _Manager:
    """What ``TableManager.on_start`` touches: its sleep, the channels and the recovery."""

    def __init__(self) -> None:
        self.should_stop = False
        self.steps: list[str] = []
        self.recovery = SimpleNamespace(start=self._start_recovery)

    async def sleep(self, seconds: float) -> None:
        self.steps.append(f"slept {seconds:g}s")

    async def _update_channels(self) -> None:
        self.steps.append("tables registered")

    async def _start_recovery(self) -> None:
        self.steps.append("recovery started")


async def test_the_tables_are_registered_and_recovery_started_without_a_sleep() -> None:
    faust_patches.install(fatal)
    manager = _Manager()
    await TableManager.on_start(manager)  # type: ignore[arg-type]
    assert manager.steps == ["tables registered", "recovery started"]


async def test_a_stopping_manager_registers_nothing() -> None:
    faust_patches.install(fatal)
    manager = _Manager()
    manager.should_stop = True
    await TableManager.on_start(manager)  # type: ignore[arg-type]
    assert manager.steps == []
