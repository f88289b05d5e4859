"""A fetch whose partitions are paused while it waits loses no records (faust-streaming 0.15.3 defect).

:func:`install` makes the fetch ask for a snapshot of the active partitions
(nothing at all when it is empty) and puts back, by seeking to the first
returned offset, the records of partitions Faust would discard because they
were paused, or the flow stopped, during the wait.

"""

from __future__ import annotations

import contextlib
from typing import Any

from aiokafka.errors import IllegalStateError
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

__all__ = ["install"]

_original_fetch_records = AIOKafkaConsumerThread._fetch_records


async def _fetch_records(
    self: AIOKafkaConsumerThread,
    consumer: Any,
    active_partitions: Any,
    timeout: float | None = None,
    max_records: int | None = None,
) -> Any:
    """Fetch what Faust asked for, and give back what it would discard (see the module docstring).

    Runs where the consumer lives (the worker's loop, :mod:`~app.faust_patches.inline_consumer`;
    Faust's own consumer thread without it), so seeking here is safe.
    """
    if active_partitions is None:  # a client-only app fetches everything
        return await _original_fetch_records(self, consumer, None, timeout, max_records)  # type: ignore[arg-type]
    asked = set(active_partitions)  # a snapshot: Faust keeps changing the live set
    if not asked:
        return {}
    records: dict[Any, Any] = dict(
        await _original_fetch_records(self, consumer, asked, timeout, max_records)
    )
    flowing = self.consumer.flow_active
    for tp in [tp for tp, got in records.items() if got]:
        if not flowing or tp not in active_partitions:
            first = records.pop(tp)[0].offset
            with contextlib.suppress(IllegalStateError):  # unassigned: the rebalance resets it
                consumer.seek(tp, first)
    return records


def install() -> None:
    """Replace ``AIOKafkaConsumerThread._fetch_records`` (idempotent)."""
    if AIOKafkaConsumerThread._fetch_records is not _fetch_records:
        AIOKafkaConsumerThread._fetch_records = _fetch_records  # type: ignore[method-assign]
