"""The order lifecycle as pure functions: one event in, one :class:`Decision` out.

The agent owns the I/O; this module owns every business rule of the order
state machine (DESIGN.md "Order statuses"):

* **Event-sourced status.** The state keeps the applied events and hold
  reasons (:class:`~domain.order_state.OrderFacts`); the status is
  :func:`~domain.order_state.derive_status` of them. After each applied event
  the status is recomputed and, if it moved, one :class:`StatusChange` with the
  next version is published. The final status therefore does not depend on the
  arrival order of an order's events.
* **Causal gating.** An event whose prerequisite has not been applied yet
  (a payment before its order, a delivery before its dispatch, see
  :func:`missing_prerequisite`) waits in ``state.pending``; whenever an event
  applies, the pending ones that became applicable are replayed in a
  deterministic order until nothing more applies. Because the shop's main path
  is a chain (created -> authorized -> dispatched -> delivered), the sequence
  published for it is the same for every arrival order.
* **Idempotence.** The ids of applied events (``seen_ids``) and of pending
  ones are remembered; a known id is a duplicate and changes nothing.
* **Nothing dropped silently.** An event that can never apply (a second
  ``order_created``, too many waiting events, one that waited too long) is
  returned in ``Decision.rejected`` for the agent to dead-letter.

Why a bounded ``seen_ids`` is safe: an order applies at most
:data:`MAX_APPLIED_EVENTS` events, fewer than the default
``max_remembered_ids``, so nothing is ever evicted during an order's lifetime
at the defaults. With a smaller bound only the oldest ids are forgotten, and
they could only come back through a replay from long before the order's
present state; even then a repeated ``order_created`` is still recognised by
its id in the facts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

from domain.money import format_money
from domain.order_events import MAX_ID_LENGTH, MAX_TEXT_LENGTH, OrderEvent
from domain.order_outputs import Alert, OrderStatus, Rejection, StatusChange
from domain.order_rules import (
    MAX_APPLIED_EVENTS,
    MAX_PENDING,
    LifecycleStep,
    missing_prerequisite,
)
from domain.order_state import HoldFact, OrderState, derive_status
from domain.timefmt import format_time, truncate_to_millis

__all__ = [
    "DEFAULT_MAX_REMEMBERED_IDS",
    "MAX_APPLIED_EVENTS",
    "MAX_PENDING",
    "Alert",
    "Decision",
    "InvalidHold",
    "OrderLifecycleError",
    "OrderMismatch",
    "OrderNotCreated",
    "OrderState",
    "OrderStatus",
    "Rejection",
    "StatusChange",
    "apply_event",
    "apply_hold",
    "derive_status",
    "expire_pending",
    "missing_prerequisite",
    "order_view",
]

#: Default size of the memory of applied ids (> MAX_APPLIED_EVENTS, see module doc).
DEFAULT_MAX_REMEMBERED_IDS: Final = 256

_T = TypeVar("_T")


class OrderLifecycleError(ValueError):
    """A call the lifecycle cannot honour (a caller bug, not bad input data)."""


class OrderMismatch(OrderLifecycleError):
    """The event or hold is for another order than the state."""


class OrderNotCreated(OrderLifecycleError):
    """The order has no applied ``order_created`` (the web view answers 404)."""


class InvalidHold(OrderLifecycleError):
    """A hold without a usable reason, cause or time."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one lifecycle call: the new state and what to publish.

    ``changes`` go to ``order-status`` in this order, ``alerts`` to ``alerts``,
    ``rejected`` to ``dead-letters``. ``duplicate`` means the input was already
    known and the state is unchanged.
    """

    state: OrderState
    changes: tuple[StatusChange, ...] = ()
    alerts: tuple[Alert, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    duplicate: bool = False


def apply_event(
    state: OrderState | None,
    event: OrderEvent,
    *,
    max_remembered_ids: int = DEFAULT_MAX_REMEMBERED_IDS,
) -> Decision:
    """Apply one validated event to the order's state (``None``: nothing stored yet)."""
    if max_remembered_ids < 1:
        raise OrderLifecycleError(f"max_remembered_ids must be positive: {max_remembered_ids}")
    current = _state_for(state, event.order_id)
    if _is_duplicate(current, event):
        return Decision(state=current, duplicate=True)
    step = LifecycleStep(current, max_remembered_ids)
    step.offer(event)
    step.drain_pending()
    return _decision(step)


def apply_hold(
    state: OrderState | None,
    order_id: str,
    reason: str,
    caused_by: str,
    occurred_at: datetime,
) -> Decision:
    """Hold the order for an outside verdict (fraud), idempotent by ``caused_by``.

    A hold for an order not created yet is recorded all the same: when its
    ``order_created`` applies, the order is published ``CREATED`` and then
    ``ON_HOLD``, as if the hold had come second (the order it is caused in).
    """
    if not isinstance(reason, str) or not reason or len(reason) > MAX_TEXT_LENGTH:
        raise InvalidHold(f"hold reason must be a non-empty string: {reason!r:.60}")
    if not isinstance(caused_by, str) or not caused_by or len(caused_by) > MAX_ID_LENGTH:
        raise InvalidHold(f"hold caused_by must be an id: {caused_by!r:.60}")
    if occurred_at.tzinfo is None:
        raise InvalidHold("hold occurred_at has no timezone")
    current = _state_for(state, order_id)
    if current.facts.has_hold(caused_by):
        return Decision(state=current, duplicate=True)
    step = LifecycleStep(current, DEFAULT_MAX_REMEMBERED_IDS)
    at = truncate_to_millis(occurred_at)
    step.add_hold(HoldFact(reason=reason, caused_by=caused_by, occurred_at=at))
    step.settle(caused_by, at)
    return _decision(step)


def expire_pending(state: OrderState, now: datetime, max_wait: timedelta) -> Decision:
    """Reject the pending events that occurred more than ``max_wait`` before ``now``.

    Their prerequisite is presumed lost; the reason names it so that whoever
    reads the dead letter knows what to re-drive first.
    """
    if max_wait < timedelta(0) or now.tzinfo is None:
        raise OrderLifecycleError(f"need an aware now and max_wait >= 0: {now!r}, {max_wait}")
    cutoff = now - max_wait
    expired = [event for event in state.pending if event.occurred_at < cutoff]
    if not expired:
        return Decision(state=state)
    waited = _describe_duration(max_wait)
    rejected = tuple(
        Rejection(
            event,
            f"never applicable: waited {waited} for "
            + (missing_prerequisite(state.facts, event) or "its prerequisite"),
        )
        for event in expired
    )
    kept = tuple(event for event in state.pending if event not in expired)
    return Decision(state=replace(state, pending=kept), rejected=rejected)


def order_view(state: OrderState) -> dict[str, Any]:
    """The ``GET /orders/{order_id}`` answer of DESIGN.md (created orders only)."""
    created = state.created
    if created is None or state.status is None:
        raise OrderNotCreated(f"order {state.order_id!r} is not created")
    return {
        "order_id": state.order_id,
        "status": str(state.status),
        "customer_id": created.customer_id,
        "total": format_money(_need(created.total, "total")),
        "currency": created.currency,
        "paid_amount": format_money(state.paid_amount),
        "version": state.version,
        "history": [
            {
                "status": str(change.status),
                "version": change.version,
                "caused_by": change.caused_by,
                "occurred_at": format_time(change.occurred_at),
            }
            for change in state.history
        ],
    }


def _decision(step: LifecycleStep) -> Decision:
    return Decision(
        state=step.state,
        changes=tuple(step.changes),
        alerts=tuple(step.alerts),
        rejected=tuple(step.rejected),
    )


def _need(value: _T | None, name: str) -> _T:
    """Narrow an attribute that :class:`OrderEvent` guarantees for this type."""
    if value is None:
        raise OrderLifecycleError(f"{name} is missing on an event that requires it")
    return value


def _state_for(state: OrderState | None, order_id: str) -> OrderState:
    if state is None:
        return OrderState(order_id=order_id)
    if state.order_id != order_id:
        raise OrderMismatch(f"state of order {state.order_id!r} given for {order_id!r}")
    return state


def _is_duplicate(state: OrderState, event: OrderEvent) -> bool:
    created = state.created
    return (
        event.event_id in state.seen_ids
        or any(waiting.event_id == event.event_id for waiting in state.pending)
        or (created is not None and created.event_id == event.event_id)
    )


def _describe_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
