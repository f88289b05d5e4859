"""The oracle's order and customer fold: final state from the *set* of an order's events.

DESIGN.md ("Order statuses") demands that an order's final state not depend
on the arrival order of its events, so the oracle never simulates arrival: it
collects each order's distinct events (by ``event_id``) and reads the answer
off that set.

* **Applicable events.** An event counts once what it builds on exists: all
  need the order created, a dispatch needs an authorization (no unpaid
  shipping), a delivery the dispatch of its shipment, a refund the
  authorization of its payment (any authorization when it names none). The
  rest waits for ever: it is neither applied nor dead-lettered while the log
  is all there is (the worker expires it after a wall-clock day).
* **Status: the strongest fact wins.** REFUNDED, then ON_HOLD (a fraud flag or
  a failed consistency check), CANCELLED, DELIVERED, SHIPPED, PAID,
  PAYMENT_FAILED, CREATED.
* **Holds.** An authorization in another currency or for another amount than
  the order, a dispatch at or after a cancellation (event time), and a fraud
  velocity flag.
* **Fraud velocity** (README: more than N orders, or more than X in one
  currency, per customer in a sliding hour of event time): the window of an
  order is the hour ending at, and including, its own ``occurred_at``; an
  order is flagged when its window, with every order of the log known, holds
  too many orders or too much money in the order's currency.
* **Customers.** Every created order counts, whatever became of it: DESIGN.md
  defines revenue as the sum of the totals of created orders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from tests.replay.oracle_records import OrderFact, format_ms

__all__ = [
    "HOUR_MS",
    "FraudLimits",
    "OrderOutcome",
    "OrdersFold",
    "UnsupportedLog",
    "fold_orders",
    "money",
]

HOUR_MS: Final = 3_600_000


class UnsupportedLog(ValueError):
    """A log whose outcome DESIGN.md leaves to arrival order; the oracle will not guess."""


@dataclass(frozen=True, slots=True)
class FraudLimits:
    """The worker's ``SHOPSTREAM_FRAUD_MAX_*_PER_HOUR`` settings, as the oracle applies them."""

    max_orders: int = 10
    max_amount: Decimal = Decimal("5000.00")
    window_ms: int = HOUR_MS

    def env(self) -> dict[str, str]:
        """The worker environment that sets these limits."""
        return {
            "SHOPSTREAM_FRAUD_MAX_ORDERS_PER_HOUR": str(self.max_orders),
            "SHOPSTREAM_FRAUD_MAX_AMOUNT_PER_HOUR": str(self.max_amount),
        }


def money(amount: Decimal) -> str:
    """DESIGN.md's money: a decimal string with exactly two decimals."""
    return f"{amount:.2f}"


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    """What ``GET /orders/{order_id}`` must answer once all of the log is consumed."""

    order_id: str
    status: str
    customer_id: str
    total: Decimal
    currency: str
    paid_amount: Decimal
    #: Alert kinds the worker must raise about this order (a set: repeats are allowed).
    alerts: frozenset[str] = frozenset()
    #: The events of the order, applied or waiting (a change's ``caused_by`` is one of them).
    event_ids: frozenset[str] = frozenset()

    def view(self) -> dict[str, Any]:
        """The arrival-order-independent part of the endpoint's answer."""
        return {
            "order_id": self.order_id,
            "status": self.status,
            "customer_id": self.customer_id,
            "total": money(self.total),
            "currency": self.currency,
            "paid_amount": money(self.paid_amount),
        }


@dataclass(slots=True)
class OrdersFold:
    """Everything the order side of a log determines."""

    orders: dict[str, OrderOutcome] = field(default_factory=dict)
    #: ``GET /customers/{id}`` answers, for every customer with a created order.
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The ``order_created`` events that were applied (analytics counts these).
    created: list[OrderFact] = field(default_factory=list)
    #: Valid events that can never apply (their order or prerequisite never comes).
    waiting: list[OrderFact] = field(default_factory=list)
    #: Order ids flagged by the fraud velocity check.
    flagged: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class _Applied:
    """One created order's events, split by what they are, after gating."""

    created: OrderFact
    auths: tuple[OrderFact, ...]
    failures: tuple[OrderFact, ...]
    cancels: tuple[OrderFact, ...]
    dispatches: tuple[OrderFact, ...]
    deliveries: tuple[OrderFact, ...]
    refunds: tuple[OrderFact, ...]
    waiting: tuple[OrderFact, ...]


def _gate(events: list[OrderFact]) -> _Applied:
    by_type: dict[str, list[OrderFact]] = defaultdict(list)
    for event in sorted(events, key=lambda e: (e.at, e.event_id)):
        by_type[event.type].append(event)
    created = by_type["order_created"]
    if len(created) != 1:
        raise UnsupportedLog(
            f"order {events[0].order_id} has {len(created)} distinct order_created events"
        )
    auths = by_type["payment_authorized"]
    authorized_payments = {auth.payment_id for auth in auths}
    dispatches = by_type["shipment_dispatched"] if auths else []
    dispatched = {dispatch.shipment_id for dispatch in dispatches}
    deliveries = [d for d in by_type["shipment_delivered"] if d.shipment_id in dispatched]
    refunds = [
        refund
        for refund in by_type["payment_refunded"]
        if (refund.payment_id in authorized_payments if refund.payment_id else auths)
    ]
    always = (*by_type["payment_failed"], *by_type["order_cancelled"])
    applied = {e.event_id for e in (*created, *auths, *always, *dispatches, *deliveries, *refunds)}
    return _Applied(
        created=created[0],
        auths=tuple(auths),
        failures=tuple(by_type["payment_failed"]),
        cancels=tuple(by_type["order_cancelled"]),
        dispatches=tuple(dispatches),
        deliveries=tuple(deliveries),
        refunds=tuple(refunds),
        waiting=tuple(e for e in events if e.event_id not in applied),
    )


def _paid(applied: _Applied) -> Decimal:
    """Authorized money, each payment once (its earliest authorization)."""
    first: dict[str | None, Decimal] = {}
    for auth in applied.auths:  # in event-time order
        first.setdefault(auth.payment_id, auth.amount or Decimal(0))
    return sum(first.values(), Decimal("0.00"))


def _alert_kinds(applied: _Applied, paid: Decimal) -> set[str]:
    order = applied.created
    kinds = set()
    for auth in applied.auths:
        if auth.currency != order.currency:
            kinds.add("currency_mismatch")
        elif auth.amount != order.total:
            kinds.add("amount_mismatch")
        if any(cancel.at <= auth.at for cancel in applied.cancels):
            kinds.add("payment_after_cancel")
    for dispatch in applied.dispatches:
        if any(cancel.at <= dispatch.at for cancel in applied.cancels):
            kinds.add("shipment_after_cancel")
    if len(applied.auths) > 1:
        kinds.add("duplicate_payment")
    refunded = sum((refund.amount or Decimal(0) for refund in applied.refunds), Decimal(0))
    if refunded > paid or any(r.currency != order.currency for r in applied.refunds):
        kinds.add("refund_mismatch")
    return kinds


_HOLD_KINDS: Final = frozenset(
    {"currency_mismatch", "amount_mismatch", "shipment_after_cancel", "fraud_velocity"}
)


def _status(applied: _Applied, held: bool) -> str:
    for present, status in (
        (applied.refunds, "REFUNDED"),
        (held, "ON_HOLD"),
        (applied.cancels, "CANCELLED"),
        (applied.deliveries, "DELIVERED"),
        (applied.dispatches, "SHIPPED"),
        (applied.auths, "PAID"),
        (applied.failures, "PAYMENT_FAILED"),
    ):
        if present:
            return status
    return "CREATED"


def _flag_velocity(created: list[OrderFact], limits: FraudLimits) -> set[str]:
    """Order ids whose own sliding hour holds too many orders or too much money."""
    by_customer: dict[str, list[OrderFact]] = defaultdict(list)
    for order in created:
        by_customer[order.customer_id or ""].append(order)
    flagged = set()
    for orders in by_customer.values():
        for order in orders:
            window = [o for o in orders if order.at - limits.window_ms < o.at <= order.at]
            spent = sum((o.total or 0 for o in window if o.currency == order.currency), Decimal(0))
            if len(window) > limits.max_orders or spent > limits.max_amount:
                flagged.add(order.order_id)
    return flagged


def _customers(created: list[OrderFact]) -> dict[str, dict[str, Any]]:
    orders: dict[str, int] = defaultdict(int)
    revenue: dict[str, dict[str, Decimal]] = defaultdict(dict)
    last: dict[str, int] = {}
    for order in created:
        customer = order.customer_id or ""
        orders[customer] += 1
        per_currency = revenue[customer]
        currency = order.currency or ""
        per_currency[currency] = per_currency.get(currency, Decimal(0)) + (order.total or 0)
        last[customer] = max(last.get(customer, order.at), order.at)
    return {
        customer: {
            "customer_id": customer,
            "orders": count,
            "revenue": {cur: money(amount) for cur, amount in sorted(revenue[customer].items())},
            "last_order_at": format_ms(last[customer]),
        }
        for customer, count in orders.items()
    }


def fold_orders(events: Iterable[OrderFact], limits: FraudLimits) -> OrdersFold:
    """Fold the valid order-pipeline events of a log (any order, duplicates allowed)."""
    distinct: dict[str, OrderFact] = {}
    for event in events:
        distinct.setdefault(event.event_id, event)
    per_order: dict[str, list[OrderFact]] = defaultdict(list)
    for event in distinct.values():
        per_order[event.order_id].append(event)

    fold = OrdersFold()
    applied_orders: list[_Applied] = []
    for order_events in per_order.values():
        if not any(e.type == "order_created" for e in order_events):
            fold.waiting.extend(order_events)
            continue
        applied = _gate(order_events)
        applied_orders.append(applied)
        fold.created.append(applied.created)
        fold.waiting.extend(applied.waiting)
    fold.flagged = _flag_velocity(fold.created, limits)
    for applied in applied_orders:
        order = applied.created
        paid = _paid(applied)
        kinds = _alert_kinds(applied, paid)
        if order.order_id in fold.flagged:
            kinds.add("fraud_velocity")
        fold.orders[order.order_id] = OrderOutcome(
            order_id=order.order_id,
            status=_status(applied, held=bool(kinds & _HOLD_KINDS)),
            customer_id=order.customer_id or "",
            total=order.total or Decimal(0),
            currency=order.currency or "",
            paid_amount=paid,
            alerts=frozenset(kinds),
            event_ids=frozenset(e.event_id for e in per_order[order.order_id]),
        )
    fold.customers = _customers(fold.created)
    return fold
