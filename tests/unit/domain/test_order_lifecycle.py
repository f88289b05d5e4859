"""The order state machine, one scenario per row: what is published, alerted and rejected."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from domain.order_events import OrderEvent
from domain.order_lifecycle import (
    MAX_APPLIED_EVENTS,
    MAX_PENDING,
    OrderMismatch,
    OrderStatus,
    apply_event,
    apply_hold,
    expire_pending,
)
from tests.unit.domain.factories import (
    at,
    authorized,
    cancelled,
    created,
    delivered,
    dispatched,
    failed,
    fold,
    refunded,
)

S = OrderStatus

# Given these events in this arrival order, then these (status, caused_by) are
# published with versions 1, 2, 3, ... and these alerts are raised.
SCENARIOS: list[tuple[str, list[OrderEvent], list[tuple[S, str]], list[str]]] = [
    (
        "happy path to delivered",
        [created(), authorized(), dispatched(), delivered()],
        [
            (S.CREATED, "e-created"),
            (S.PAID, "e-auth"),
            (S.SHIPPED, "e-dispatch"),
            (S.DELIVERED, "e-deliver"),
        ],
        [],
    ),
    (
        "payment failed, then a later authorization",
        [created(), failed(minute=1), authorized(minute=2)],
        [(S.CREATED, "e-created"), (S.PAYMENT_FAILED, "e-fail"), (S.PAID, "e-auth")],
        [],
    ),
    (
        "cancel before payment",
        [created(), cancelled(minute=1)],
        [(S.CREATED, "e-created"), (S.CANCELLED, "e-cancel")],
        [],
    ),
    (
        "cancel after payment, then refund",
        [created(), authorized(), cancelled(minute=2), refunded(minute=3)],
        [
            (S.CREATED, "e-created"),
            (S.PAID, "e-auth"),
            (S.CANCELLED, "e-cancel"),
            (S.REFUNDED, "e-refund"),
        ],
        [],
    ),
    (
        "refund after delivery",
        [created(), authorized(), dispatched(), delivered(), refunded(minute=9)],
        [
            (S.CREATED, "e-created"),
            (S.PAID, "e-auth"),
            (S.SHIPPED, "e-dispatch"),
            (S.DELIVERED, "e-deliver"),
            (S.REFUNDED, "e-refund"),
        ],
        [],
    ),
    (
        "amount mismatch holds the order",
        [created(), authorized(amount="30.00")],
        [(S.CREATED, "e-created"), (S.ON_HOLD, "e-auth")],
        ["amount_mismatch"],
    ),
    (
        "currency mismatch holds the order",
        [created(), authorized(currency="USD")],
        [(S.CREATED, "e-created"), (S.ON_HOLD, "e-auth")],
        ["currency_mismatch"],
    ),
    (
        "payment after cancellation is recorded and alerted",
        [created(), cancelled(minute=1), authorized(minute=2)],
        [(S.CREATED, "e-created"), (S.CANCELLED, "e-cancel")],
        ["payment_after_cancel"],
    ),
    (
        "dispatch after cancellation holds the order",
        [created(), authorized(minute=1), cancelled(minute=2), dispatched(minute=3)],
        [
            (S.CREATED, "e-created"),
            (S.PAID, "e-auth"),
            (S.CANCELLED, "e-cancel"),
            (S.ON_HOLD, "e-dispatch"),
        ],
        ["shipment_after_cancel"],
    ),
    (
        "cancellation arriving after a later dispatch still holds it",
        [created(), authorized(minute=1), dispatched(minute=3), cancelled(minute=2)],
        [
            (S.CREATED, "e-created"),
            (S.PAID, "e-auth"),
            (S.SHIPPED, "e-dispatch"),
            (S.ON_HOLD, "e-cancel"),
        ],
        ["shipment_after_cancel"],
    ),
    (
        "payment before its order waits, then applies",
        [authorized(), created()],
        [(S.CREATED, "e-created"), (S.PAID, "e-auth")],
        [],
    ),
    (
        "everything backwards still publishes the chain",
        [delivered(), dispatched(), authorized(), created()],
        [
            (S.CREATED, "e-created"),
            (S.PAID, "e-auth"),
            (S.SHIPPED, "e-dispatch"),
            (S.DELIVERED, "e-deliver"),
        ],
        [],
    ),
    (
        "a second payment is alerted and counted once per payment",
        [created(), authorized(), authorized("e-auth-2", minute=2, payment_id="p-2")],
        [(S.CREATED, "e-created"), (S.PAID, "e-auth")],
        ["duplicate_payment"],
    ),
    (
        "refunding more than was paid is alerted",
        [created(), authorized(), refunded(amount="40.00")],
        [(S.CREATED, "e-created"), (S.PAID, "e-auth"), (S.REFUNDED, "e-refund")],
        ["refund_mismatch"],
    ),
]


@pytest.mark.parametrize(
    ("events", "published", "alert_kinds"),
    [row[1:] for row in SCENARIOS],
    ids=[row[0] for row in SCENARIOS],
)
def test_transitions(
    events: list[OrderEvent], published: list[tuple[S, str]], alert_kinds: list[str]
) -> None:
    run = fold(events)
    changes = [(c.status, c.caused_by) for c in run.changes]
    assert changes == published
    assert [c.version for c in run.changes] == list(range(1, len(published) + 1))
    assert [c.previous_status for c in run.changes] == [None] + [s for s, _ in published[:-1]]
    assert list(run.final.history) == run.changes
    assert run.final.status is published[-1][0]
    assert run.final.version == len(published)
    assert [a.kind for a in run.alerts] == alert_kinds
    assert run.rejected == []
    assert run.final.pending == ()


def test_reasons_are_published_with_the_status() -> None:
    run = fold([created(), failed(), cancelled(minute=2)])
    assert [c.reason for c in run.changes] == [None, "card_declined", "customer_request"]
    held = fold([created(), authorized(amount="1.00")])
    assert held.changes[-1].reason == "amount_mismatch"
    assert held.alerts[0].customer_id == "c-1"
    assert "authorized 1.00 EUR, order totals 37.50 EUR" in held.alerts[0].detail


def test_status_change_is_the_order_status_record() -> None:
    change = fold([created()]).changes[0]
    assert change.to_wire() == {
        "order_id": "o-1",
        "status": "CREATED",
        "previous_status": None,
        "reason": None,
        "caused_by": "e-created",
        "version": 1,
        "occurred_at": "2026-11-21T10:00:00.000Z",
    }


def test_paid_amount_counts_each_payment_once() -> None:
    again = authorized("e-auth-again", minute=2)  # same payment p-1, new event id
    run = fold([created(), authorized(), again, authorized("e-2", minute=3, payment_id="p-2")])
    assert run.final.paid_amount == Decimal("75.00")


# --- idempotence -------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "event"),
    [
        ([created()], created()),
        ([created(), authorized()], authorized()),
        ([created(), dispatched()], dispatched()),  # pending: not paid yet
        ([delivered()], delivered()),  # pending: order unknown
    ],
    ids=["applied created", "applied payment", "pending dispatch", "pending delivery"],
)
def test_the_same_event_twice_changes_nothing(before: list[OrderEvent], event: OrderEvent) -> None:
    state = fold(before).final
    again = apply_event(state, event)
    assert again.duplicate
    assert again.state == state
    assert (again.changes, again.alerts, again.rejected) == ((), (), ())


def test_duplicate_order_created_is_rejected_and_alerted() -> None:
    run = fold([created("e-1"), created("e-2", minute=5)])
    assert [c.status for c in run.changes] == [S.CREATED]
    assert [(r.event.event_id, r.reason) for r in run.rejected] == [
        ("e-2", "order already created by e-1")
    ]
    assert [a.kind for a in run.alerts] == ["duplicate_order"]
    assert run.final.created is not None
    assert run.final.created.event_id == "e-1"


def test_order_created_again_after_its_id_was_forgotten_is_still_a_duplicate() -> None:
    state = fold([created(), authorized()]).final
    forgetful = replace(state, seen_ids=())
    assert apply_event(forgetful, created()).duplicate


def test_seen_ids_are_bounded_to_the_most_recent() -> None:
    run = fold([created()])
    events = [failed(f"e-f{i}", minute=i, payment_id=f"p-{i}") for i in range(1, 6)]
    state = run.final
    for event in events:
        state = apply_event(state, event, max_remembered_ids=3).state
    assert state.seen_ids == ("e-f3", "e-f4", "e-f5")


# --- fraud holds -------------------------------------------------------------


def test_fraud_hold_after_creation() -> None:
    state = fold([created(), authorized()]).final
    decision = apply_hold(state, "o-1", "velocity", "velocity:e-created", at(2))
    assert [(c.status, c.reason, c.version) for c in decision.changes] == [
        (S.ON_HOLD, "velocity", 3)
    ]
    again = apply_hold(decision.state, "o-1", "velocity", "velocity:e-created", at(2))
    assert again.duplicate
    assert again.state == decision.state


def test_fraud_hold_before_creation_is_kept_until_the_order_exists() -> None:
    decision = apply_hold(None, "o-1", "velocity", "velocity:e-x", at(0))
    assert decision.changes == ()
    assert decision.state.status is None
    assert not decision.state.is_vacant()
    run = fold([created()], decision.state)
    assert [(c.status, c.previous_status) for c in run.changes] == [
        (S.CREATED, None),
        (S.ON_HOLD, S.CREATED),
    ]


def test_a_hold_publishes_the_same_changes_whether_it_comes_before_or_after_the_creation() -> None:
    """After a crash the hold command and the redelivered creation can arrive in either order."""
    after = apply_hold(fold([created()]).final, "o-1", "velocity", "velocity:e-x", at(1))
    first = fold([created()], apply_hold(None, "o-1", "velocity", "velocity:e-x", at(1)).state)
    assert first.final.history == after.state.history
    assert [c.to_wire() for c in first.final.history] == [
        c.to_wire() for c in (*fold([created()]).changes, *after.changes)
    ]


# --- pending, expiry, limits ------------------------------------------------------


def test_refund_waits_for_the_payment_it_names() -> None:
    run = fold([created(), authorized(payment_id="p-1"), refunded(payment_id="p-2")])
    assert run.final.status is S.PAID
    assert [e.event_id for e in run.final.pending] == ["e-refund"]
    run = fold([authorized("e-auth-2", payment_id="p-2", minute=2)], run.final)
    assert run.final.status is S.REFUNDED
    assert run.final.pending == ()


def test_delivery_waits_for_the_dispatch_of_its_shipment() -> None:
    run = fold([created(), authorized(), dispatched(shipment_id="sh-1")])
    run = fold([delivered(shipment_id="sh-2")], run.final)
    assert run.final.status is S.SHIPPED
    assert len(run.final.pending) == 1


def test_dispatch_of_an_unpaid_order_waits_and_expires() -> None:
    run = fold([created(), dispatched(minute=1)])
    assert run.final.status is S.CREATED
    assert run.final.oldest_pending_at == at(1)
    not_yet = expire_pending(run.final, at(1) + timedelta(hours=24), timedelta(hours=24))
    assert not_yet.rejected == ()
    assert not_yet.state == run.final
    decision = expire_pending(run.final, at(2) + timedelta(hours=24), timedelta(hours=24))
    assert [(r.event.event_id, r.reason) for r in decision.rejected] == [
        ("e-dispatch", "never applicable: waited 24h for payment_authorized")
    ]
    assert decision.state.pending == ()
    assert decision.changes == ()


def test_expired_events_of_an_order_never_created() -> None:
    state = fold([authorized(), delivered()]).final
    assert state.status is None
    decision = expire_pending(state, at(100), timedelta(minutes=30))
    assert {r.reason for r in decision.rejected} == {
        "never applicable: waited 30m for order_created"
    }
    assert decision.state.is_vacant()


def test_an_expired_event_can_be_re_driven() -> None:
    state = fold([dispatched()]).final
    state = expire_pending(state, at(60), timedelta(minutes=1)).state
    assert not apply_event(state, dispatched()).duplicate


def test_pending_overflow_is_rejected() -> None:
    early = [delivered(f"e-d{i}", shipment_id=f"sh-{i}") for i in range(MAX_PENDING + 1)]
    run = fold(early)
    assert len(run.final.pending) == MAX_PENDING
    assert [r.event.event_id for r in run.rejected] == [f"e-d{MAX_PENDING}"]
    assert "too many early events" in run.rejected[0].reason


def test_an_order_applies_a_bounded_number_of_events() -> None:
    failures = [failed(f"e-f{i}", minute=1) for i in range(MAX_APPLIED_EVENTS)]
    run = fold([created(), *failures])
    assert len(run.final.facts.applied) == MAX_APPLIED_EVENTS
    assert [r.event.event_id for r in run.rejected] == [failures[-1].event_id]


def test_state_of_another_order_is_a_caller_bug() -> None:
    state = fold([created()]).final
    with pytest.raises(OrderMismatch):
        apply_event(state, authorized(order_id="o-2"))
    with pytest.raises(OrderMismatch):
        apply_hold(state, "o-2", "velocity", "x", at(0))
