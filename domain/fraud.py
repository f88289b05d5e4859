"""Fraud velocity: too many orders, or too much money, per customer in a sliding hour.

The window slides in event time and is anchored on each order's own
``occurred_at``: the window of an order is ``(occurred_at - window, occurred_at]``.
An order is flagged when its window holds more than ``max_orders`` orders, or
more than ``max_amount`` in its currency.

Why this is (nearly) independent of arrival order: counts and sums only grow
as orders arrive, and an arriving order is checked against every window it
belongs to - its own and those of the later orders within one window after it.
So each window that is over the limit once all its orders are known is flagged
exactly when its last order arrives, whatever the order of arrival, and the
set of flagged orders is the same. The one exception is lateness beyond the
retention: orders are kept for ``window + lateness`` behind the newest one seen
(and at most :data:`MAX_ENTRIES`), so an order later than that is judged on
what is left.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from domain.money import InvalidMoney, format_money, parse_money
from domain.order_events import EventType, OrderEvent
from domain.timefmt import InvalidTimestamp, format_time, parse_time, truncate_to_millis

__all__ = [
    "DEFAULT_WINDOW",
    "MAX_ENTRIES",
    "CorruptVelocity",
    "CustomerVelocity",
    "FlaggedOrder",
    "FraudVerdict",
    "InvalidFraudInput",
    "VelocityEntry",
    "record_order",
]

#: DESIGN's fraud rule looks at one hour of a customer's orders.
DEFAULT_WINDOW: Final = timedelta(hours=1)
#: Orders kept per customer at most; a customer past this is flagged long before.
MAX_ENTRIES: Final = 1000
_SCHEMA_VERSION: Final = 1


class InvalidFraudInput(ValueError):
    """A call that cannot be judged: not an ``order_created``, wrong customer, bad limits."""


class CorruptVelocity(ValueError):
    """A stored velocity state that cannot be read back."""


@dataclass(frozen=True, slots=True)
class VelocityEntry:
    """One recent order of the customer; ``flag`` is the detail once it was flagged."""

    occurred_at: datetime
    order_id: str
    total: Decimal
    currency: str
    event_id: str
    flag: str | None = None
    #: The stored form, made once by :meth:`to_wire`: a customer's window is written whole
    #: at every change of it, and most of its orders are the same as at the last write.
    _wire: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def sort_key(self) -> tuple[datetime, str]:
        return (self.occurred_at, self.event_id)

    def to_wire(self) -> dict[str, Any]:
        """JSON-able; made on the first call and kept (the entry is immutable; do not change it)."""
        wire = self._wire
        if wire is None:
            wire = {
                "occurred_at": format_time(self.occurred_at),
                "order_id": self.order_id,
                "total": format_money(self.total),
                "currency": self.currency,
                "event_id": self.event_id,
                "flag": self.flag,
            }
            object.__setattr__(self, "_wire", wire)
        return wire


@dataclass(frozen=True, slots=True)
class CustomerVelocity:
    """The customer's recent orders, sorted by event time then event id."""

    customer_id: str
    orders: tuple[VelocityEntry, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, for a changelog table; :meth:`from_dict` reads it back exactly."""
        return {
            "schema": _SCHEMA_VERSION,
            "customer_id": self.customer_id,
            "orders": [entry.to_wire() for entry in self.orders],
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> CustomerVelocity:
        try:
            if value["schema"] != _SCHEMA_VERSION:
                raise ValueError(f"unknown schema {value['schema']!r}")
            orders = tuple(_entry_from_dict(entry) for entry in value["orders"])
            customer_id = value["customer_id"]
            if not isinstance(customer_id, str):
                raise ValueError("customer_id must be a string")
        except (KeyError, TypeError, ValueError, InvalidMoney, InvalidTimestamp) as exc:
            raise CorruptVelocity(f"stored velocity state is unreadable: {exc!r:.200}") from None
        if sorted(orders, key=lambda e: e.sort_key) != list(orders):
            raise CorruptVelocity(f"stored velocity of {customer_id!r} is not in time order")
        return cls(customer_id=customer_id, orders=orders)


def _entry_from_dict(value: Mapping[str, Any]) -> VelocityEntry:
    flag = value["flag"]
    if flag is not None and not isinstance(flag, str):
        raise ValueError("flag must be a string or null")
    return VelocityEntry(
        occurred_at=truncate_to_millis(parse_time(value["occurred_at"])),
        order_id=str(value["order_id"]),
        total=parse_money(value["total"], field="total"),
        currency=str(value["currency"]),
        event_id=str(value["event_id"]),
        flag=flag,
    )


@dataclass(frozen=True, slots=True)
class FlaggedOrder:
    """An order found over the limit by this call (to hold and to alert on)."""

    order_id: str
    event_id: str
    occurred_at: datetime
    detail: str

    @property
    def hold_id(self) -> str:
        """A stable ``caused_by`` for ``apply_hold``, so repeating the verdict is harmless."""
        return f"velocity:{self.event_id}"


@dataclass(frozen=True, slots=True)
class FraudVerdict:
    """The outcome of :func:`record_order`.

    ``flagged``/``detail`` are about the recorded order itself. ``newly_flagged``
    lists every order flagged by this call: the recorded one, and later orders
    whose window this late-arriving order completed.
    """

    state: CustomerVelocity
    flagged: bool
    detail: str
    newly_flagged: tuple[FlaggedOrder, ...] = ()
    duplicate: bool = False


def record_order(
    state: CustomerVelocity | None,
    order_event: OrderEvent,
    *,
    max_orders: int,
    max_amount: Decimal,
    window: timedelta = DEFAULT_WINDOW,
    lateness: timedelta | None = None,
) -> FraudVerdict:
    """Record an ``order_created`` in its customer's velocity and judge it (idempotent).

    ``lateness`` (default: one ``window``) is how far behind the newest order
    an order may arrive and still be judged on complete data.
    """
    entry = _entry_for(order_event)
    if max_orders < 0 or max_amount < 0 or window <= timedelta(0):
        raise InvalidFraudInput("max_orders, max_amount must be >= 0 and window > 0")
    keep_for = window + (window if lateness is None else lateness)
    current = (
        state if state is not None else CustomerVelocity(customer_id=_customer_of(order_event))
    )
    if current.customer_id != order_event.customer_id:
        raise InvalidFraudInput(
            f"order {order_event.order_id} of customer {order_event.customer_id!r} "
            f"given to the velocity of {current.customer_id!r}"
        )
    known = next((e for e in current.orders if e.event_id == entry.event_id), None)
    if known is not None:
        return FraudVerdict(current, known.flag is not None, known.flag or "", duplicate=True)

    orders = list(current.orders)
    bisect.insort(orders, entry, key=lambda e: e.sort_key)
    flagged: list[FlaggedOrder] = []
    for index, candidate in enumerate(orders):
        # The windows holding the new order end at orders in [new, new + window).
        in_reach = entry.occurred_at <= candidate.occurred_at < entry.occurred_at + window
        if not in_reach or candidate.flag is not None:
            continue
        detail = _over_limit(orders, candidate, max_orders, max_amount, window)
        if detail is not None:
            orders[index] = replace(candidate, flag=detail)
            flagged.append(
                FlaggedOrder(candidate.order_id, candidate.event_id, candidate.occurred_at, detail)
            )
    own = next((f for f in flagged if f.event_id == entry.event_id), None)
    horizon = orders[-1].occurred_at - keep_for
    kept = tuple(e for e in orders if e.occurred_at > horizon)[-MAX_ENTRIES:]
    return FraudVerdict(
        state=CustomerVelocity(customer_id=current.customer_id, orders=kept),
        flagged=own is not None,
        detail="" if own is None else own.detail,
        newly_flagged=tuple(flagged),
    )


def _customer_of(order_event: OrderEvent) -> str:
    if order_event.customer_id is None:
        raise InvalidFraudInput(f"order {order_event.order_id} has no customer_id")
    return order_event.customer_id


def _entry_for(order_event: OrderEvent) -> VelocityEntry:
    if order_event.type is not EventType.ORDER_CREATED:
        raise InvalidFraudInput(f"fraud velocity counts order_created, not {order_event.type}")
    if order_event.total is None or order_event.currency is None:
        raise InvalidFraudInput(f"order {order_event.order_id} has no total or currency")
    _customer_of(order_event)
    return VelocityEntry(
        occurred_at=order_event.occurred_at,
        order_id=order_event.order_id,
        total=order_event.total,
        currency=order_event.currency,
        event_id=order_event.event_id,
    )


def _over_limit(
    orders: list[VelocityEntry],
    last: VelocityEntry,
    max_orders: int,
    max_amount: Decimal,
    window: timedelta,
) -> str | None:
    """Why the window ending at ``last`` is over a limit, or ``None`` if it is not."""
    start = last.occurred_at - window
    members = [e for e in orders if start < e.occurred_at <= last.occurred_at]
    span = _describe_duration(window)
    until = format_time(last.occurred_at)
    if len(members) > max_orders:
        return f"{len(members)} orders in the {span} up to {until} (limit {max_orders})"
    spent = sum((e.total for e in members if e.currency == last.currency), Decimal("0.00"))
    if spent > max_amount:
        return (
            f"{format_money(spent)} {last.currency} ordered in the {span} up to {until} "
            f"(limit {format_money(max_amount)})"
        )
    return None


def _describe_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
