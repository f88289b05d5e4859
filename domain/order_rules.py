"""The rules of the order lifecycle: when an event may apply, and what it implies.

Split from :mod:`domain.order_lifecycle` (the public entry points) to keep
each module small: this one holds causal gating (:func:`missing_prerequisite`),
the consistency checks that hold an order or raise alerts, and the bookkeeping
of one call (:class:`LifecycleStep`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Final

from domain.money import format_money
from domain.order_events import EventType, OrderEvent
from domain.order_outputs import Alert, OrderStatus, Rejection, StatusChange
from domain.order_state import HoldFact, OrderFacts, OrderState, derive_status, event_sort_key
from domain.timefmt import format_time

__all__ = ["MAX_APPLIED_EVENTS", "MAX_PENDING", "LifecycleStep", "missing_prerequisite"]

#: Events waiting for a prerequisite, per order; more is a flood, not a race.
MAX_PENDING: Final = 64
#: Applied events per order; a real order has a handful. Bounds the stored row.
MAX_APPLIED_EVENTS: Final = 128


def missing_prerequisite(facts: OrderFacts, event: OrderEvent) -> str | None:
    """What ``event`` still waits for, or ``None`` if it can apply now.

    Everything needs the order created; a refund needs the authorization it
    reverses (that payment if the refund names one); a dispatch needs an
    authorization (the shop does not ship unpaid orders); a delivery needs the
    dispatch of the same shipment.
    """
    if event.type is EventType.ORDER_CREATED:
        return None
    if facts.created is None:
        return "order_created"
    if event.type is EventType.PAYMENT_REFUNDED:
        if event.payment_id is None:
            return None if facts.authorizations else "payment_authorized"
        if any(auth.payment_id == event.payment_id for auth in facts.authorizations):
            return None
        return f"payment_authorized of payment {event.payment_id}"
    if event.type is EventType.SHIPMENT_DISPATCHED:
        return None if facts.authorizations else "payment_authorized"
    if event.type is EventType.SHIPMENT_DELIVERED:
        if any(d.shipment_id == event.shipment_id for d in facts.dispatches):
            return None
        return f"shipment_dispatched of shipment {event.shipment_id}"
    return None


def _money(amount: Decimal | None, currency: str | None) -> str:
    return f"{'?' if amount is None else format_money(amount)} {currency or '?'}"


def _status_reason(facts: OrderFacts, status: OrderStatus) -> str | None:
    """The reason published with a status, derived from the facts (deterministic)."""
    if status is OrderStatus.ON_HOLD:
        return ", ".join(dict.fromkeys(hold.reason for hold in facts.holds))
    source = {
        OrderStatus.CANCELLED: facts.cancellations[:1],
        OrderStatus.PAYMENT_FAILED: facts.of_type(EventType.PAYMENT_FAILED)[-1:],
        OrderStatus.REFUNDED: facts.of_type(EventType.PAYMENT_REFUNDED)[:1],
    }.get(status, ())
    return source[0].reason if source else None


def _first_cancellation_before(facts: OrderFacts, event: OrderEvent) -> OrderEvent | None:
    """The earliest cancellation that happened no later than ``event``."""
    return next((c for c in facts.cancellations if c.occurred_at <= event.occurred_at), None)


class LifecycleStep:
    """The outcome of one lifecycle call being built.

    Mutable, but created and dropped inside one call of
    :mod:`domain.order_lifecycle`, so that module's functions stay pure.
    """

    def __init__(self, state: OrderState, max_remembered_ids: int) -> None:
        self.state = state
        self.max_remembered_ids = max_remembered_ids
        self.changes: list[StatusChange] = []
        self.alerts: list[Alert] = []
        self.rejected: list[Rejection] = []

    def offer(self, event: OrderEvent) -> None:
        """Apply ``event``, park it until its prerequisite applies, or reject it."""
        facts = self.state.facts
        created = facts.created
        if event.type is EventType.ORDER_CREATED and created is not None:
            self.rejected.append(Rejection(event, f"order already created by {created.event_id}"))
            self.alert(
                "duplicate_order",
                event,
                f"order_created {event.event_id} ignored: order already created "
                f"by {created.event_id}",
            )
            return
        if len(facts.applied) >= MAX_APPLIED_EVENTS:
            reason = f"order already has {MAX_APPLIED_EVENTS} events applied"
            self.rejected.append(Rejection(event, reason))
            return
        missing = missing_prerequisite(facts, event)
        if missing is None:
            self.apply(event)
        elif len(self.state.pending) >= MAX_PENDING:
            reason = f"too many early events ({MAX_PENDING} waiting); this one waits for {missing}"
            self.rejected.append(Rejection(event, reason))
        else:
            pending = sorted((*self.state.pending, event), key=event_sort_key)
            self.state = replace(self.state, pending=tuple(pending))

    def drain_pending(self) -> None:
        """Replay pending events that became applicable, earliest first, to a fixpoint."""
        while True:
            facts = self.state.facts
            ready = [e for e in self.state.pending if missing_prerequisite(facts, e) is None]
            if not ready:
                return
            event = min(ready, key=event_sort_key)
            rest = tuple(e for e in self.state.pending if e.event_id != event.event_id)
            self.state = replace(self.state, pending=rest)
            self.offer(event)

    def apply(self, event: OrderEvent) -> None:
        seen = (*self.state.seen_ids, event.event_id)[-self.max_remembered_ids :]
        facts = self.state.facts.with_event(event)
        if event.type is EventType.ORDER_CREATED and facts.holds:
            self.create_held(event, facts, seen)
            return
        self.state = replace(self.state, facts=facts, seen_ids=seen)
        self.check(event)
        self.settle(event.event_id, event.occurred_at)

    def create_held(self, created: OrderEvent, facts: OrderFacts, seen: tuple[str, ...]) -> None:
        """Create an order that holds arrived for first: ``CREATED``, then ``ON_HOLD``.

        The same two changes, with the same versions, as when the hold comes
        after the creation, which is how a fraud hold is caused: after a crash
        the hold (an internal command) and the redelivered ``order_created``
        may be read in either order, and a version once published must not
        be published again with another status.
        """
        self.state = replace(
            self.state, facts=replace(facts, holds=()), seen_ids=seen
        )  # created, not yet held
        self.settle(created.event_id, created.occurred_at)
        self.state = replace(self.state, facts=facts)
        first = facts.holds[0]
        self.settle(first.caused_by, first.occurred_at)

    def add_hold(self, hold: HoldFact) -> None:
        self.state = replace(self.state, facts=self.state.facts.with_hold(hold))

    def settle(self, caused_by: str, occurred_at: datetime) -> None:
        """Publish a status change if the facts now derive another status."""
        status = derive_status(self.state.facts)
        if status is None or status == self.state.status:
            return
        change = StatusChange(
            order_id=self.state.order_id,
            status=status,
            previous_status=self.state.status,
            reason=_status_reason(self.state.facts, status),
            caused_by=caused_by,
            version=self.state.version + 1,
            occurred_at=occurred_at,
        )
        self.state = replace(
            self.state,
            status=status,
            version=change.version,
            history=(*self.state.history, change),
        )
        self.changes.append(change)

    def alert(self, kind: str, cause: OrderEvent, detail: str) -> None:
        created = self.state.facts.created
        self.alerts.append(
            Alert(
                kind=kind,
                order_id=self.state.order_id,
                customer_id=None if created is None else created.customer_id,
                detail=detail,
                caused_by=cause.event_id,
                occurred_at=cause.occurred_at,
            )
        )

    def hold(self, reason: str, cause: OrderEvent, detail: str) -> None:
        """A consistency hold (keyed by its cause, so it is recorded once) plus its alert."""
        if self.state.facts.has_hold(cause.event_id):
            return
        self.add_hold(
            HoldFact(reason=reason, caused_by=cause.event_id, occurred_at=cause.occurred_at)
        )
        self.alert(reason, cause, detail)

    def check(self, event: OrderEvent) -> None:
        """Consistency checks of a just-applied event against the facts.

        Checks about a pair of events (a payment or dispatch after a
        cancellation) run when the second of the pair applies, whichever it
        is, and compare event times, so their outcome does not depend on
        arrival order.
        """
        facts = self.state.facts
        created = facts.created
        if created is None:
            return
        if event.type is EventType.PAYMENT_AUTHORIZED:
            self.check_authorization(created, event)
        elif event.type is EventType.SHIPMENT_DISPATCHED:
            if (cancel := _first_cancellation_before(facts, event)) is not None:
                self.dispatch_after_cancel(event, cancel)
        elif event.type is EventType.ORDER_CANCELLED:
            for later in (*facts.authorizations, *facts.dispatches):
                first = _first_cancellation_before(facts, later)
                if first is not None and first.event_id == event.event_id:
                    if later.type is EventType.PAYMENT_AUTHORIZED:
                        self.payment_after_cancel(later, event)
                    else:
                        self.dispatch_after_cancel(later, event)
        elif event.type is EventType.PAYMENT_REFUNDED:
            refunded = self.state.refunded_amount
            if event.currency != created.currency or refunded > self.state.paid_amount:
                self.alert(
                    "refund_mismatch",
                    event,
                    f"refunded {_money(refunded, event.currency)} in total but "
                    f"{_money(self.state.paid_amount, created.currency)} was authorized",
                )

    def check_authorization(self, created: OrderEvent, auth: OrderEvent) -> None:
        order_money = _money(created.total, created.currency)
        if auth.currency != created.currency:
            detail = f"payment {auth.payment_id} in {auth.currency}, order in {created.currency}"
            self.hold("currency_mismatch", auth, detail)
        elif auth.amount != created.total:
            detail = (
                f"payment {auth.payment_id} authorized {_money(auth.amount, auth.currency)}, "
                f"order totals {order_money}"
            )
            self.hold("amount_mismatch", auth, detail)
        earlier = [a for a in self.state.facts.authorizations if a.event_id != auth.event_id]
        if earlier:
            detail = (
                f"payment {auth.payment_id} ({auth.event_id}) authorized although "
                f"payment {earlier[0].payment_id} ({earlier[0].event_id}) already was"
            )
            self.alert("duplicate_payment", auth, detail)
        if (cancel := _first_cancellation_before(self.state.facts, auth)) is not None:
            self.payment_after_cancel(auth, cancel)

    def payment_after_cancel(self, auth: OrderEvent, cancel: OrderEvent) -> None:
        detail = (
            f"payment {auth.payment_id} authorized at {format_time(auth.occurred_at)}, "
            f"after cancellation {cancel.event_id} at {format_time(cancel.occurred_at)}"
        )
        self.alert("payment_after_cancel", auth, detail)

    def dispatch_after_cancel(self, dispatch: OrderEvent, cancel: OrderEvent) -> None:
        detail = (
            f"shipment {dispatch.shipment_id} dispatched at "
            f"{format_time(dispatch.occurred_at)}, after cancellation {cancel.event_id} "
            f"at {format_time(cancel.occurred_at)}"
        )
        self.hold("shipment_after_cancel", dispatch, detail)
