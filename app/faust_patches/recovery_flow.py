"""A takeover without a table restore keeps the records fetched for it (faust-streaming 0.15.3 defect).

A second defect loses input records when a rebalance needs no table restore,
which is what a standby replica buys (``table_standby_replicas``): the worker
that takes over a killed worker's partitions has their tables warm, so
Faust's ``Recovery`` resumes the flow at once and then, in
``on_recovery_completed``, resumes the input partitions, *awaits* the seek to
their committed offsets, and only then calls ``app.flow_control.resume()``,
which empties every stream queue. The fetcher is running meanwhile (the flow
was resumed), so the records it hands to the agents during the seek are
thrown away, while the consumer's position and read offset are already past
them: they are never fetched again, and the offset commit moves past them
once later records are acknowledged. The same clear empties the changelog
queue too, where it can drop standby changelog records fetched but not yet
applied. The scale-out test caught it as orders missing their creation, payment or
shipment after a takeover with standby replicas (3 runs in 4; instrumented
runs logged the cleared records); without standbys it was not seen, the
fetcher being mostly idle in that window after a restore.

:func:`install` replaces ``on_recovery_completed`` with the same steps,
except that the flow control is resumed (which clears the queues) only if a
new rebalance suspended it. The recovery already resumed it, with a clear,
before it resumed any partition of this generation, so what sits in the
queues now was fetched for this generation and is kept. A record handed over
before the seek may be processed twice (the seek goes back to the committed
offset): at-least-once, which the agents absorb (event ids are de-duplicated).
Seeking before resuming was tried and lost more, because of the third defect.

A third defect drops records of partitions that are paused while a fetch
waits. Faust hands aiokafka its live set of active partitions; when the
recovery pauses the last of them mid-fetch (``Done reading from changelog
topics``), aiokafka reads the now empty set as "every assigned partition",
returns and consumes their records, and Faust discards those of partitions
that are not active, with the consumer position already past them.
Instrumented takeovers logged it in every run (inputs and standby
changelogs). The recovery's seeks repair it only where a partition is sought
afterwards to a committed offset above 0: input partitions the killed worker
never committed lost their first records (the three-worker standby test:
payments and shipments of a whole partition), and a standby sought before
such a drop would skip the records.
"""

from __future__ import annotations

import asyncio
from typing import Any

from faust.tables.recovery import Recovery

__all__ = ["install"]

_original_on_recovery_completed = Recovery.on_recovery_completed


async def _on_recovery_completed(self: Recovery, generation_id: int = 0) -> None:
    """Faust's ``Recovery.on_recovery_completed`` without the clear of this generation's records.

    Steps, order and log lines are Faust 0.15.3's; only the flow control's
    resume, which empties the stream and changelog queues, runs just when a
    newer rebalance suspended the flow (see the module docstring).
    """
    app: Any = self.app
    consumer = app.consumer
    self.log.info("Restore complete!")
    await app.on_rebalance_complete.send()
    self._set_recovery_ended()
    callbacks = [
        asyncio.ensure_future(
            table.on_recovery_completed(
                self.actives_for_table[table], self.standbys_for_table[table]
            )
        )
        for table in self.tables.values()
    ]
    if callbacks:
        await asyncio.wait(callbacks)
    assignment = consumer.assignment()
    if app.consumer_generation_id != generation_id:
        self.log.warning(
            f"Recovery rebalancing again app id {app.consumer_generation_id} param {generation_id}"
        )
        return
    consumer.resume_partitions({tp for tp in assignment if not self._is_changelog_tp(tp)})
    if assignment:
        self.log.info("Seek stream partitions to committed offsets.")
        await self._wait(consumer.perform_seek(), timeout=app.conf.broker_request_timeout)
    self.completed.set()
    if not app.flow_control.is_active():  # suspended by a newer rebalance: drop stale records
        app.flow_control.resume()
    consumer.resume_flow()
    await app._fetcher.maybe_start()
    self.tables.on_actives_ready()
    if not app.assignor.assigned_standbys():
        self.tables.on_standbys_ready()
    app.on_rebalance_end()
    self.log.info("Worker ready")


def install() -> None:
    """Replace ``Recovery.on_recovery_completed`` (idempotent)."""
    if Recovery.on_recovery_completed is not _on_recovery_completed:
        Recovery.on_recovery_completed = _on_recovery_completed  # type: ignore[method-assign]
