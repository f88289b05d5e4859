"""Fixes for three faust-streaming 0.15.3 defects that lose updates after a crash or a takeover.

Table writes go to the changelog through Faust's ``ProducerBuffer``
(``send_soon``). Before committing input offsets, Faust flushes the producer,
but ``ProducerBuffer.flush`` gives up as soon as 0.1 s pass without a
buffered message being handed to the Kafka client (``flush_atmost`` returns
on that timeout) and never waits for the broker's acknowledgement of what it
handed over. On a busy worker the commit then overtakes changelog writes
still in the buffer; a SIGKILL at that moment loses them for good: the
offsets say "processed", the changelog never got the new state, and the
worker (or standby) that takes over restores the old one. The scale-out and
worker-crash tests caught it as lost orders and payments.

:func:`install` makes the buffer remember every message put into it until the
broker acknowledged (or refused) it, and makes ``flush`` wait for all of
them, so an offset is committed only after the table updates it covers are
on the broker.

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

:func:`install` makes the fetch ask for a snapshot of the active partitions
(nothing at all when it is empty) and puts back, by seeking to the first
returned offset, the records of partitions Faust would discard because they
were paused, or the flow stopped, during the wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiokafka
import faust
from aiokafka.errors import IllegalStateError
from faust.tables.recovery import Recovery
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.producer import ProducerBuffer

__all__ = ["install"]

logger = logging.getLogger(__name__)

#: The versions these patches were written against and proven on (pyproject.toml pins them):
#: the patched methods are copies of theirs, so another version must be re-checked first.
PATCHED_VERSIONS = {"faust-streaming": "0.15.3", "aiokafka": "0.14.0"}

_OUTSTANDING = "_shopstream_outstanding"
_original_put = ProducerBuffer.put
_original_flush = ProducerBuffer.flush
_original_on_recovery_completed = Recovery.on_recovery_completed
_original_fetch_records = AIOKafkaConsumerThread._fetch_records


def _outstanding(buffer: ProducerBuffer) -> set[asyncio.Future[Any]]:
    found: set[asyncio.Future[Any]] | None = buffer.__dict__.get(_OUTSTANDING)
    if found is None:
        found = set()
        buffer.__dict__[_OUTSTANDING] = found
    return found


def _put(self: ProducerBuffer, fut: Any) -> None:
    """Buffer ``fut`` as Faust does, and remember it until the broker answered."""
    outstanding = _outstanding(self)
    outstanding.add(fut)
    fut.add_done_callback(outstanding.discard)
    _original_put(self, fut)


async def _flush(self: ProducerBuffer) -> None:
    """Drain as Faust does, then wait until every buffered message was acknowledged."""
    await _original_flush(self)
    while self.state == "running" and (pending := list(_outstanding(self))):
        await asyncio.wait(pending, timeout=1.0)
        if not self.should_stop and self.size:  # Faust's drain gave up again: keep it going
            await _original_flush(self)


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


async def _fetch_records(
    self: AIOKafkaConsumerThread,
    consumer: Any,
    active_partitions: Any,
    timeout: float | None = None,
    max_records: int | None = None,
) -> Any:
    """Fetch what Faust asked for, and give back what it would discard (see the module docstring).

    Runs on the consumer's own thread, so seeking here is safe.
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


def _check_versions() -> None:
    found = {"faust-streaming": faust.__version__, "aiokafka": aiokafka.__version__}
    if found != PATCHED_VERSIONS:
        raise RuntimeError(
            f"app/faust_patches/ patches {PATCHED_VERSIONS}, found {found}: "
            "re-check each patch against the new sources before changing the pins"
        )


def install() -> None:
    """Patch Faust's producer buffer, recovery and fetch once (idempotent); called when the App is built."""
    _check_versions()
    if ProducerBuffer.put is not _put:
        ProducerBuffer.put = _put  # type: ignore[method-assign]
        ProducerBuffer.flush = _flush  # type: ignore[method-assign]
    if Recovery.on_recovery_completed is not _on_recovery_completed:
        Recovery.on_recovery_completed = _on_recovery_completed  # type: ignore[method-assign]
    if AIOKafkaConsumerThread._fetch_records is not _fetch_records:
        AIOKafkaConsumerThread._fetch_records = _fetch_records  # type: ignore[method-assign]
