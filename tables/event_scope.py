"""Writing a table on behalf of a chosen record of a batch.

Faust sends each table change to the changelog partition of the *current
event* (and stores it in that partition's database). An agent that takes
records in batches writes after the batch, when the current event is only the
last record taken, so it names the record whose partition the rows belong to.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from faust.streams import _current_event
from faust.types import EventT

__all__ = ["as_current_event"]


@contextmanager
def as_current_event(event: EventT[Any]) -> Iterator[None]:
    """Make ``event`` the current event while the block writes its partition's rows."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)
