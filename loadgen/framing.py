"""Part of the valid events sent in the Confluent wire format, as a shop's serializers would.

``shopstream simulate --framed-share 0.3`` frames about 30 % of the valid
records (chosen by the run's seed, so a run stays reproducible) with the schema
id of their topic's subject; poison records stay as they are. Plain and framed
records then meet on the same topics, as they do in shops that migrate to a
registry one producer at a time.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterable, Iterator, Mapping

from app.kafka.codec import frame
from loadgen.events import SimEvent

__all__ = ["frame_share"]

_SALT = 0x5C4E3A  # framing draws from its own random stream: the events stay the same


def frame_share(
    events: Iterable[SimEvent], *, share: float, schema_ids: Mapping[str, int], seed: int
) -> Iterator[SimEvent]:
    """``events`` with about ``share`` of the valid ones framed with ``schema_ids[topic]``."""
    rng = random.Random(seed ^ _SALT)
    for event in events:
        if event.is_valid and event.topic in schema_ids and rng.random() < share:
            yield dataclasses.replace(event, value=frame(schema_ids[event.topic], event.value))
        else:
            yield event
