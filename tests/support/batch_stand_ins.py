"""Stand-ins for the unit tests of agents that take records in batches.

A batch writes a table after its records were taken, naming the record whose
partition the rows belong to (:func:`tables.event_scope.as_current_event`);
:class:`RecordingTable` records that partition per write, and :class:`Record`
is the part of a Faust event the agents read.
"""

from __future__ import annotations

from typing import Any

from faust.streams import current_event

__all__ = ["Record", "RecordingTable"]


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
