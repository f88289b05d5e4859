"""Stand-ins for the unit tests of agents that take records in batches.

A batch writes a table after its records were taken, naming the record whose
partition the rows belong to (:func:`tables.event_scope.as_current_event`);
:class:`RecordingTable` records that partition per write, and :class:`Record`
is the part of a Faust event the agents read; :class:`RecordingOutputs` stands
for a batch's :class:`~app.faust_patches.record_batches.OutputBatches`: it keeps
what was added and acknowledges a submit only when the test says so.
"""

from __future__ import annotations

import asyncio
from typing import Any

from faust.streams import current_event

__all__ = ["Record", "RecordingOutputs", "RecordingTable"]


class RecordingTable(dict[Any, Any]):
    """A table that records (partition of the current event, key) per write."""

    def __init__(self) -> None:
        super().__init__()
        self.name = "stand-in"
        self.writes: list[tuple[int, Any]] = []

    def __setitem__(self, key: Any, value: Any) -> None:
        event = current_event()
        assert event is not None, "a table write needs a current event"
        self.writes.append((event.message.partition, key))
        super().__setitem__(key, value)


class Record:
    """What the agent reads of a Faust event (weak-referenceable, as Faust's current event is)."""

    def __init__(self, message: Any) -> None:
        self.message = message


class RecordingOutputs:
    """Outputs of batches: ``added`` (topic, key) and one pending future per non-empty submit."""

    def __init__(self) -> None:
        self.added: list[tuple[str, bytes]] = []
        self.submits: list[asyncio.Future[Any]] = []
        self._waiting = 0

    def __call__(self) -> RecordingOutputs:
        """Stands for ``output_batches()``: every batch shares this recorder."""
        return self

    async def add(self, topic: str, key: bytes, value: bytes) -> None:
        self.added.append((topic, key))
        self._waiting += 1

    def submit(self) -> list[asyncio.Future[Any]]:
        if not self._waiting:
            return []
        self._waiting = 0
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.submits.append(fut)
        return [fut]

    async def submitted(self) -> asyncio.Future[Any]:
        """The next submit's future, once the code under test submitted."""
        seen = len(self.submits)
        while len(self.submits) == seen:
            await asyncio.sleep(0.001)
        return self.submits[-1]
