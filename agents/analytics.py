"""Event-time analytics: ``clickstream`` and session purchases in one agent.

Both topics are keyed by ``session_id`` with the same partition count, so a
session's clicks and the orders naming it meet here on one worker. Per
record: decode, validate (bad input goes to ``dead-letters``, stage
``validate``; so does an event more than a day ahead of the worker's clock,
which would otherwise expire every window of its partition), then apply it
to the partition's rows in the ``analytics`` table
(:mod:`domain.analytics_apply`: minute buckets, sessions, expiry, all in
event time and idempotent). A record later than the grace period is not
counted: it is counted in ``shopstream_late_events_total`` and dead-lettered
with error type ``late`` (stage ``window``).

Concurrency stays 1 (FAUST_NOTES: higher values can commit past a record
still being processed).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from faust.types import EventT

from app.analytics_metrics import record_analytics_outcome, record_late_event
from app.analytics_topics import SESSION_PURCHASES, analytics_input_topic
from app.codec import UndecodableValue, decode_json_object
from app.dead_letters import letter_for, send_dead_letter
from app.main import app, settings
from domain.analytics_apply import Outcome, Result, apply_click, apply_purchase
from domain.analytics_windows import Stream, WindowPolicy, ahead_of_clock
from domain.click_events import InvalidClickEvent, click_event_from_wire
from domain.session_purchase import InvalidPurchase, SessionPurchase
from domain.timefmt import now_utc
from tables.analytics import TableRows

__all__ = ["POLICY", "FromTheFuture", "analytics", "handle_analytics_input"]

logger = logging.getLogger(__name__)

#: Grace period and retention of every window (SHOPSTREAM_LATE_GRACE_SECONDS).
POLICY = WindowPolicy(grace_ms=settings.late_grace_seconds * 1000)


class FromTheFuture(ValueError):
    """An event time too far ahead of the clock to be believed (a producer's clock is wrong)."""


def _believable(occurred_at: datetime) -> None:
    reason = ahead_of_clock(occurred_at, now_utc())
    if reason is not None:
        raise FromTheFuture(reason)


def _apply(message: Any, value: dict[str, Any]) -> tuple[Stream, Result]:
    rows = TableRows(message.partition)
    if message.topic == SESSION_PURCHASES:
        purchase = SessionPurchase.from_wire(value)
        _believable(purchase.occurred_at)
        return Stream.PURCHASES, apply_purchase(
            rows, message.partition, message.offset, purchase, POLICY
        )
    click = click_event_from_wire(value, key=message.key)
    _believable(click.occurred_at)
    return Stream.CLICKS, apply_click(rows, message.partition, message.offset, click, POLICY)


async def handle_analytics_input(event: EventT[bytes]) -> Result | None:
    """Process one record; bad and late input is dead-lettered, never raised."""
    message = event.message
    try:
        value = decode_json_object(message.value)
    except UndecodableValue as exc:
        record_analytics_outcome("invalid")
        await send_dead_letter(letter_for(message, exc, stage="decode"))
        return None
    try:
        stream, result = _apply(message, value)
    except (InvalidClickEvent, InvalidPurchase, FromTheFuture) as exc:
        record_analytics_outcome("invalid")
        await send_dead_letter(letter_for(message, exc, stage="validate"))
        return None
    record_analytics_outcome(result.outcome.value)
    if result.outcome is Outcome.LATE:
        record_late_event(stream.name.lower())
        reason = result.reason or "late"
        await send_dead_letter(letter_for(message, reason, stage="window", error_type="late"))
    if result.expired_rows:
        logger.debug(
            "analytics partition %d: expired %d rows", message.partition, result.expired_rows
        )
    return result


@app.agent(analytics_input_topic, name="analytics", concurrency=1)
async def analytics(stream: Any) -> None:
    """Clicks and purchases of one session meet here, in event time."""
    async for event in stream.events():
        await handle_analytics_input(event)
