"""The stored state of one order, and the status derived from it.

The state is event-sourced: it keeps the events that have been applied (the
*facts*), the hold reasons, the events still waiting for a prerequisite and
the status changes already published. The status is never set directly; it
is :func:`derive_status` of the facts, so the status after all of an order's
events have arrived cannot depend on their arrival order (DESIGN.md "Order
statuses").

The agent stores :meth:`OrderState.to_dict` in a RocksDB changelog table, so it
is plain JSON (money as strings, times as ``format_time``) and
``OrderState.from_dict(state.to_dict()) == state`` holds exactly.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from domain.order_events import (
    TOPIC_OF_TYPE,
    EventType,
    InvalidEvent,
    OrderEvent,
    order_event_from_wire,
    to_wire,
)
from domain.order_outputs import OrderStatus, StatusChange
from domain.timefmt import InvalidTimestamp, format_time, parse_time, truncate_to_millis

__all__ = [
    "SCHEMA_VERSION",
    "CorruptState",
    "HoldFact",
    "OrderFacts",
    "OrderState",
    "derive_status",
    "event_sort_key",
]

#: Written into every stored state so that a later layout can migrate old rows.
SCHEMA_VERSION: Final = 1


class CorruptState(ValueError):
    """A stored order state that cannot be read back (wrong schema or a bug)."""


# Ties in event time are broken in lifecycle order, then by id: the canonical
# order of facts and the order in which pending events are replayed.
_TYPE_RANK: Final[Mapping[EventType, int]] = {
    EventType.ORDER_CREATED: 0,
    EventType.PAYMENT_FAILED: 1,
    EventType.PAYMENT_AUTHORIZED: 2,
    EventType.SHIPMENT_DISPATCHED: 3,
    EventType.SHIPMENT_DELIVERED: 4,
    EventType.ORDER_CANCELLED: 5,
    EventType.PAYMENT_REFUNDED: 6,
}


def event_sort_key(event: OrderEvent) -> tuple[datetime, int, str]:
    """Deterministic order of events: event time, then lifecycle rank, then id."""
    return (event.occurred_at, _TYPE_RANK[event.type], event.event_id)


@dataclass(frozen=True, slots=True)
class HoldFact:
    """A reason to hold the order (consistency check or fraud verdict)."""

    reason: str
    caused_by: str
    occurred_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "caused_by": self.caused_by,
            "occurred_at": format_time(self.occurred_at),
        }


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What is known to have happened to an order, in canonical order.

    ``applied`` is sorted by :func:`event_sort_key` and ``holds`` by time and
    cause, so two states holding the same facts compare equal whatever the
    order in which the facts arrived.
    """

    applied: tuple[OrderEvent, ...] = ()
    holds: tuple[HoldFact, ...] = ()

    def with_event(self, event: OrderEvent) -> OrderFacts:
        applied = list(self.applied)
        bisect.insort(applied, event, key=event_sort_key)
        return OrderFacts(applied=tuple(applied), holds=self.holds)

    def with_hold(self, hold: HoldFact) -> OrderFacts:
        holds = sorted((*self.holds, hold), key=lambda h: (h.occurred_at, h.caused_by, h.reason))
        return OrderFacts(applied=self.applied, holds=tuple(holds))

    def of_type(self, event_type: EventType) -> tuple[OrderEvent, ...]:
        return tuple(event for event in self.applied if event.type is event_type)

    def has_hold(self, caused_by: str) -> bool:
        return any(hold.caused_by == caused_by for hold in self.holds)

    @property
    def created(self) -> OrderEvent | None:
        """The applied ``order_created`` event (at most one is ever applied)."""
        for event in self.applied:  # asked several times per event: no tuple built
            if event.type is EventType.ORDER_CREATED:
                return event
        return None

    @property
    def authorizations(self) -> tuple[OrderEvent, ...]:
        return self.of_type(EventType.PAYMENT_AUTHORIZED)

    @property
    def cancellations(self) -> tuple[OrderEvent, ...]:
        return self.of_type(EventType.ORDER_CANCELLED)

    @property
    def dispatches(self) -> tuple[OrderEvent, ...]:
        return self.of_type(EventType.SHIPMENT_DISPATCHED)


def derive_status(facts: OrderFacts) -> OrderStatus | None:
    """The status of an order holding ``facts``; ``None`` until it is created.

    A pure function of the *set* of facts, by priority (the strongest fact
    wins): a refund, then a hold, a cancellation, a delivery, a dispatch, an
    authorization, a failed payment; otherwise the order is just created.
    """
    if facts.created is None:
        return None
    present = {event.type for event in facts.applied}
    if EventType.PAYMENT_REFUNDED in present:
        return OrderStatus.REFUNDED
    if facts.holds:
        return OrderStatus.ON_HOLD
    for event_type, status in (
        (EventType.ORDER_CANCELLED, OrderStatus.CANCELLED),
        (EventType.SHIPMENT_DELIVERED, OrderStatus.DELIVERED),
        (EventType.SHIPMENT_DISPATCHED, OrderStatus.SHIPPED),
        (EventType.PAYMENT_AUTHORIZED, OrderStatus.PAID),
        (EventType.PAYMENT_FAILED, OrderStatus.PAYMENT_FAILED),
    ):
        if event_type in present:
            return status
    return OrderStatus.CREATED


@dataclass(frozen=True, slots=True)
class OrderState:
    """Everything the lifecycle knows about one order (immutable; see module doc).

    ``status`` and ``version`` equal the last entry of ``history`` (what was
    published on ``order-status``); ``pending`` holds events waiting for a
    prerequisite, in replay order; ``seen_ids`` remembers the ids of the most
    recently applied events, for duplicate detection.
    """

    order_id: str
    status: OrderStatus | None = None
    version: int = 0
    facts: OrderFacts = field(default_factory=OrderFacts)
    history: tuple[StatusChange, ...] = ()
    pending: tuple[OrderEvent, ...] = ()
    seen_ids: tuple[str, ...] = ()

    @property
    def created(self) -> OrderEvent | None:
        return self.facts.created

    @property
    def paid_amount(self) -> Decimal:
        """The sum authorized, each payment counted once (refunds are counted separately).

        A payment authorized twice (a retried message with a new event id) holds
        the customer's money once, so only its first authorization counts.
        """
        first_per_payment: dict[str | None, OrderEvent] = {}
        for auth in self.facts.authorizations:
            first_per_payment.setdefault(auth.payment_id, auth)
        return _sum_amounts(tuple(first_per_payment.values()))

    @property
    def refunded_amount(self) -> Decimal:
        return _sum_amounts(self.facts.of_type(EventType.PAYMENT_REFUNDED))

    @property
    def oldest_pending_at(self) -> datetime | None:
        """When the longest-waiting event occurred (for the expiry timer)."""
        return min((event.occurred_at for event in self.pending), default=None)

    def is_vacant(self) -> bool:
        """Nothing worth keeping: never created, nothing waiting, no hold."""
        return self.created is None and not self.pending and not self.facts.holds

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict for the changelog table (see :meth:`from_dict`)."""
        return {
            "schema": SCHEMA_VERSION,
            "order_id": self.order_id,
            "status": None if self.status is None else str(self.status),
            "version": self.version,
            "applied": [to_wire(event) for event in self.facts.applied],
            "holds": [hold.to_dict() for hold in self.facts.holds],
            "history": [change.to_wire() for change in self.history],
            "pending": [to_wire(event) for event in self.pending],
            "seen_ids": list(self.seen_ids),
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> OrderState:
        """Read back :meth:`to_dict`; raises :class:`CorruptState` on anything else."""
        try:
            state = _state_from_dict(value)
        except (KeyError, TypeError, ValueError, InvalidEvent, InvalidTimestamp) as exc:
            raise CorruptState(f"stored order state is unreadable: {exc!r:.200}") from None
        _check_consistent(state)
        return state


def _sum_amounts(events: tuple[OrderEvent, ...]) -> Decimal:
    return sum((event.amount or Decimal(0) for event in events), Decimal("0.00"))


def _events(values: object) -> Iterator[OrderEvent]:
    if not isinstance(values, list):
        raise ValueError("expected a list of events")
    for value in values:
        yield order_event_from_wire(TOPIC_OF_TYPE[EventType(value["type"])], value)


def _state_from_dict(value: Mapping[str, Any]) -> OrderState:
    if value["schema"] != SCHEMA_VERSION:
        raise ValueError(f"unknown schema {value['schema']!r}")
    holds = tuple(
        HoldFact(
            reason=str(hold["reason"]),
            caused_by=str(hold["caused_by"]),
            occurred_at=truncate_to_millis(parse_time(hold["occurred_at"])),
        )
        for hold in value["holds"]
    )
    status = value["status"]
    seen_ids = value["seen_ids"]
    if not isinstance(seen_ids, list) or not all(isinstance(i, str) for i in seen_ids):
        raise ValueError("seen_ids must be a list of strings")
    return OrderState(
        order_id=str(value["order_id"]),
        status=None if status is None else OrderStatus(status),
        version=int(value["version"]),
        facts=OrderFacts(applied=tuple(_events(value["applied"])), holds=holds),
        history=tuple(StatusChange.from_wire(change) for change in value["history"]),
        pending=tuple(_events(value["pending"])),
        seen_ids=tuple(seen_ids),
    )


def _check_consistent(state: OrderState) -> None:
    """Refuse a state whose parts contradict each other rather than build on it."""
    problems: list[str] = []
    if sorted(state.facts.applied, key=event_sort_key) != list(state.facts.applied):
        problems.append("facts are not in canonical order")
    if sorted(state.pending, key=event_sort_key) != list(state.pending):
        problems.append("pending events are not in replay order")
    if any(e.order_id != state.order_id for e in (*state.facts.applied, *state.pending)):
        problems.append("an event belongs to another order")
    if state.status != derive_status(state.facts):
        problems.append(f"status {state.status} does not follow from the facts")
    last = state.history[-1] if state.history else None
    if state.version != len(state.history) or (last is not None and last.status != state.status):
        problems.append("version/status disagree with the history")
    if problems:
        raise CorruptState(f"stored order state {state.order_id!r}: " + "; ".join(problems))
