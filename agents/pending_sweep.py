"""The sweep that dead-letters events which waited too long for their prerequisite.

An early event (a payment before its order) waits in the order's state. If
its prerequisite never comes, DESIGN.md wants it on ``dead-letters`` rather
than kept forever. A timer scans the local ``orders`` table now and then and
sends an ``expire_pending`` command for each order holding an old pending
event; the order agent applies it in order with the order's events (one writer
per order). The scan also sees standby copies; a command for an order that no
longer needs it changes nothing, so that is harmless.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from app.kafka.codec import encode_json
from app.kafka.topics import order_commands_topic
from app.main import app, settings
from domain.order_commands import ExpirePending
from domain.timefmt import InvalidTimestamp, now_utc, parse_time
from tables.orders import orders_table

__all__ = ["SWEEP_INTERVAL_SECONDS", "orders_due_for_expiry", "sweep_pending"]

logger = logging.getLogger(__name__)

#: Often enough to keep waits near their limit, never more often than once a second.
SWEEP_INTERVAL_SECONDS = min(300.0, max(1.0, settings.pending_max_wait_hours * 3600 / 4))


def _oldest_pending(stored: dict[str, Any]) -> datetime | None:
    oldest = None
    for event in stored.get("pending") or ():
        try:
            occurred = parse_time(event.get("occurred_at"))
        except InvalidTimestamp:
            continue
        oldest = occurred if oldest is None or occurred < oldest else oldest
    return oldest


def orders_due_for_expiry(rows: Any, *, now: datetime, max_wait: timedelta) -> list[str]:
    """Order ids whose oldest pending event occurred more than ``max_wait`` ago."""
    due = []
    for key, stored in rows:
        if not isinstance(stored, dict) or not stored.get("pending"):
            continue
        oldest = _oldest_pending(stored)
        if oldest is not None and now - oldest > max_wait:
            due.append(key.decode() if isinstance(key, bytes) else str(key))
    return due


@app.timer(interval=SWEEP_INTERVAL_SECONDS, on_leader=False)
async def sweep_pending() -> None:
    """Ask the owners of orders with stale pending events to expire them."""
    now = now_utc()
    due = orders_due_for_expiry(
        orders_table.items(), now=now, max_wait=timedelta(hours=settings.pending_max_wait_hours)
    )
    for order_id in due:
        command = ExpirePending(order_id=order_id, now=now)
        await order_commands_topic.send(key=order_id, value=encode_json(command.to_wire()))
    if due:
        logger.info("pending sweep: asked to expire stale events of %d orders", len(due))
