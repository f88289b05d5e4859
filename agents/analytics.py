"""Event-time analytics: ``clickstream`` and session purchases in one agent.

Both topics are keyed by ``session_id`` with the same partition count, so a
session's clicks and the orders naming it meet here on one worker. Per
record: decode, validate (bad input goes to ``dead-letters``, stage
``validate``; so does an event more than a day ahead of the worker's clock,
which would otherwise expire every window of its partition), then apply it
to the partition's rows in the ``analytics`` table
(:mod:`domain.analytics_apply`: minute buckets, sessions, expiry, all in
event time and idempotent). Records come in batches (a fetch at a time,
:mod:`app.faust_patches.batch_delivery`; ``take_events`` in the agent body): they
are applied one by one to the rows held in memory, across batches, in
:data:`tables.analytics.analytics_cache` (:mod:`domain.analytics_batch`);
each changed row is written once per commit, just before Faust commits the
offsets of the records applied (:mod:`tables.commit_cache`), or earlier when
the cache is full or a record moved the partition's expiry horizon (crash
safety, see :mod:`domain.analytics_batch`). A record later than the grace
period is not counted: it is counted in ``shopstream_late_events_total`` and dead-lettered
with error type ``late`` (stage ``window``).

Concurrency stays 1 (FAUST_NOTES: higher values can commit past a record
still being processed).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from faust.types import EventT

from app.faust_patches.batch_delivery import deliver_in_batches
from app.kafka.analytics_topics import SESSION_PURCHASES, analytics_input_topic
from app.kafka.codec import UndecodableValue, decode_value
from app.kafka.dead_letters import DeadLetter, letter_for, send_dead_letters
from app.main import app
from app.monitoring.analytics_metrics import record_analytics_outcome, record_late_event
from app.monitoring.metrics import record_event_processed
from app.schemas.writer_schemas import (
    SchemaViolation,
    UnknownSchemaId,
    framed_schema_ids,
    shared_writer_schemas,
)
from domain.analytics_apply import Outcome, Result, apply_click, apply_purchase
from domain.analytics_rows import RowStore
from domain.analytics_windows import MAX_AHEAD_OF_CLOCK, Stream, ahead_of_clock
from domain.click_events import InvalidClickEvent, click_event_from_wire
from domain.session_purchase import InvalidPurchase, SessionPurchase
from domain.timefmt import now_utc
from tables.analytics import POLICY, analytics_cache
from tables.commit_cache import install_commit_caches

__all__ = [
    "BATCH_MAX",
    "BATCH_WITHIN_SECONDS",
    "POLICY",
    "FromTheFuture",
    "analytics",
    "analytics_route",
    "handle_analytics_batch",
]

logger = logging.getLogger(__name__)

#: Most records per batch, and the longest a record waits for its batch to fill.
BATCH_MAX: Final = 2000
BATCH_WITHIN_SECONDS: Final = 0.02


class FromTheFuture(ValueError):
    """An event time too far ahead of the clock to be believed (a producer's clock is wrong)."""


class _Clock:
    """The clock that events from the future are judged by: one reading per batch."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        #: The latest believable event time (a comparison per record, not a subtraction).
        self.latest = now + MAX_AHEAD_OF_CLOCK

    def believe(self, occurred_at: datetime) -> None:
        if occurred_at > self.latest:
            raise FromTheFuture(ahead_of_clock(occurred_at, self.now))


def _apply(
    rows: RowStore, message: Any, value: dict[str, Any], clock: _Clock
) -> tuple[Stream, Result]:
    if message.topic == SESSION_PURCHASES:
        purchase = SessionPurchase.from_wire(value)
        clock.believe(purchase.occurred_at)
        return Stream.PURCHASES, apply_purchase(
            rows, message.partition, message.offset, purchase, POLICY
        )
    if message.key is None:  # a keyless click lands away from its session's partition
        raise InvalidClickEvent("no key: the record must be keyed by session_id")
    click = click_event_from_wire(value, key=message.key)
    clock.believe(click.occurred_at)
    return Stream.CLICKS, apply_click(rows, message.partition, message.offset, click, POLICY)


install_commit_caches(app, analytics_cache)


class _Batch:
    """The records of one batch, applied to the rows held in memory (the commit cache)."""

    def __init__(self) -> None:
        self.clock = _Clock(now_utc())
        self.check_schema = shared_writer_schemas().check  # ids prepared for the whole batch
        self.letters: list[DeadLetter] = []
        self.outcomes: Counter[str] = Counter()
        self.late: Counter[str] = Counter()
        self.topics: Counter[str] = Counter()

    def take(self, event: EventT[bytes]) -> Result | None:
        """Apply one record to the batch's rows; bad and late input becomes a dead letter."""
        message = event.message
        self.topics[message.topic] += 1
        try:
            decoded = decode_value(message.value)
        except UndecodableValue as exc:
            self._refuse(letter_for(message, exc, stage="decode"))
            return None
        try:
            self.check_schema(decoded)
        except UnknownSchemaId as exc:
            self._refuse(letter_for(message, exc, stage="decode"))
            return None
        except SchemaViolation as exc:
            self._refuse(letter_for(message, exc, stage="validate"))
            return None
        value = decoded.value
        rows = analytics_cache.rows(event)
        try:
            stream, result = _apply(rows, message, value, self.clock)
        except (InvalidClickEvent, InvalidPurchase, FromTheFuture) as exc:
            self._refuse(letter_for(message, exc, stage="validate"))
            return None
        if rows.must_write:
            analytics_cache.write(message.partition)
        self.outcomes[result.outcome] += 1  # a str: Outcome.APPLIED counts as "applied"
        if result.outcome is Outcome.LATE:
            self.late[stream.name.lower()] += 1
            reason = result.reason or "late"
            self.letters.append(letter_for(message, reason, stage="window", error_type="late"))
        if result.expired_rows:
            logger.debug(
                "analytics partition %d: expired %d rows", message.partition, result.expired_rows
            )
        return result

    def _refuse(self, letter: DeadLetter) -> None:
        self.outcomes["invalid"] += 1
        self.letters.append(letter)

    async def finish(self) -> None:
        """Write the rows early if the cache is full; send the dead letters, count the outcomes."""
        analytics_cache.write_if_full()
        await send_dead_letters(self.letters)
        for outcome, count in self.outcomes.items():
            record_analytics_outcome(str(outcome), count)
        for topic, count in self.late.items():
            record_late_event(topic, count)
        for topic, count in self.topics.items():  # /operations' events per second
            record_event_processed(topic, count)


async def handle_analytics_batch(events: Sequence[EventT[bytes]]) -> list[Result | None]:
    """Process a batch of records, in order; bad and late input is dead-lettered, never raised.

    The records are acked after this returns (the route, or ``take_events``, acks then), and
    their rows are in the commit cache by then, which writes them before Faust
    commits any offset covering them.
    """
    await shared_writer_schemas().prepare(framed_schema_ids(e.message.value for e in events))
    batch = _Batch()
    results = [batch.take(event) for event in events]
    await batch.finish()
    return results


@app.agent(analytics_input_topic, name="analytics", concurrency=1)
async def analytics(stream: Any) -> None:
    """Clicks and purchases of one session meet here, in event time, a batch at a time."""
    async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_SECONDS):
        await handle_analytics_batch(events)


#: On a worker the records skip Faust's per-record path: they reach
#: :func:`handle_analytics_batch` a fetch at a time (:mod:`app.faust_patches.batch_delivery`);
#: once caught up with its partitions, the rows are written between batches, a partition per
#: turn of the loop, rather than all at the next commit (which stalled the loop for up to 40 ms
#: at half load).
analytics_route = deliver_in_batches(
    app, analytics, handle_analytics_batch, when_caught_up=analytics_cache.write_all_in_parts
)
