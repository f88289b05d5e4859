"""Arrival-order independence and idempotence of the order lifecycle, as properties.

DESIGN.md: "the result after all of an order's events have arrived must not
depend on their arrival order", and applying an event twice changes nothing.
Lifecycles are generated as the shop would produce them (one order, ids
consistent, event times ascending along the lifecycle), then delivered in any
permutation with duplicates mixed in.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.order_events import OrderEvent
from domain.order_lifecycle import OrderState, apply_event
from domain.order_state import event_sort_key
from tests.unit.domain.factories import (
    Fold,
    authorized,
    cancelled,
    created,
    delivered,
    dispatched,
    failed,
    fold,
    refunded,
)

FAST = settings(max_examples=200, deadline=None)


@dataclass
class Clock:
    """Event time along a generated lifecycle, in minutes after T0 (ties allowed)."""

    minute: int = 0

    def later(self, draw: st.DrawFn) -> int:
        self.minute += draw(st.integers(min_value=0, max_value=20))
        return self.minute


@st.composite
def chain_lifecycles(draw: st.DrawFn) -> list[OrderEvent]:
    """created -> authorized -> dispatched -> delivered (any prefix), or -> refunded.

    Each event's prerequisite is the one before it, so gating forces one
    application order. A mismatching authorization makes the chain end ON_HOLD.
    """
    clock = Clock()
    events = [created()]
    if not draw(st.booleans()):
        return events
    amount = draw(st.sampled_from(["37.50", "37.50", "30.00"]))
    events.append(authorized(minute=clock.later(draw), amount=amount))
    tail = draw(st.sampled_from(["paid", "shipped", "delivered", "refunded"]))
    if tail in ("shipped", "delivered"):
        events.append(dispatched(minute=clock.later(draw)))
    if tail == "delivered":
        events.append(delivered(minute=clock.later(draw)))
    if tail == "refunded":
        payment_id = draw(st.sampled_from(["p-1", None]))
        events.append(refunded(minute=clock.later(draw), payment_id=payment_id))
    return events


@st.composite
def branching_lifecycles(draw: st.DrawFn) -> list[OrderEvent]:
    """Any realistic lifecycle: failures then an authorization, shipping, a cancellation
    at any time, a refund after the rest; the branches are concurrent."""
    clock = Clock()
    events = [created()]
    for index in range(draw(st.integers(min_value=0, max_value=2))):
        events.append(failed(f"e-fail-{index}", minute=clock.later(draw), payment_id=f"p-f{index}"))
    if draw(st.booleans()):
        amount = draw(st.sampled_from(["37.50", "37.50", "30.00"]))
        events.append(authorized(minute=clock.later(draw), amount=amount))
        if draw(st.booleans()):
            events.append(dispatched(minute=clock.later(draw)))
            if draw(st.booleans()):
                events.append(delivered(minute=clock.later(draw)))
        if draw(st.booleans()):
            payment_id = draw(st.sampled_from(["p-1", None]))
            events.append(refunded(minute=clock.later(draw), payment_id=payment_id))
    if draw(st.booleans()):
        events.append(cancelled(minute=draw(st.integers(0, clock.minute + 5))))
    return sorted(events, key=event_sort_key)


@st.composite
def arrivals(
    draw: st.DrawFn, lifecycle: st.SearchStrategy[list[OrderEvent]]
) -> tuple[list[OrderEvent], list[OrderEvent]]:
    """A lifecycle in event-time order, and the same events as they might arrive."""
    events = draw(lifecycle)
    duplicates = draw(st.lists(st.sampled_from(events), max_size=4))
    return events, draw(st.permutations(events + duplicates))


def _history(run: Fold) -> list[tuple[object, ...]]:
    return [(c.status, c.version, c.caused_by, c.occurred_at) for c in run.final.history]


@FAST
@given(arrivals(chain_lifecycles()))
def test_chain_lifecycles_publish_the_same_sequence_in_any_arrival_order(
    case: tuple[list[OrderEvent], list[OrderEvent]],
) -> None:
    in_order, arrived = case
    expected = fold(in_order)
    actual = fold(arrived)

    assert actual.final == expected.final  # status, facts, version, history, seen ids
    assert actual.final.paid_amount == expected.final.paid_amount
    assert [c.to_wire() for c in actual.changes] == [c.to_wire() for c in expected.changes]
    assert _history(actual) == _history(expected)
    assert actual.rejected == []
    assert actual.final.pending == ()


@FAST
@given(arrivals(branching_lifecycles()))
def test_branching_lifecycles_end_in_the_same_state_in_any_arrival_order(
    case: tuple[list[OrderEvent], list[OrderEvent]],
) -> None:
    """Final status, facts, amounts and alerts do not depend on arrival order.

    The published *sequence* can, and nothing short of an end-of-order marker
    (or a watermark saying no older event will come) could make it not: when
    an authorization arrives before an earlier failure, PAID is published at
    once, and the failure arriving later cannot un-publish it - the in-order
    run would have published PAYMENT_FAILED first. The same holds for a
    cancellation racing a payment, and for a refund overtaking a dispatch or a
    delivery (so "refund after delivery" belongs here, not among the chains):
    waiting for an event that may never exist would stall every order that
    legitimately lacks it. What stays true is that each run's published
    changes are consecutive versions ending in the common final status.
    """
    in_order, arrived = case
    expected = fold(in_order)
    actual = fold(arrived)

    assert actual.final.status == expected.final.status
    assert actual.final.facts == expected.final.facts
    assert actual.final.paid_amount == expected.final.paid_amount
    assert actual.final.refunded_amount == expected.final.refunded_amount
    assert sorted(a.alert_id for a in actual.alerts) == sorted(a.alert_id for a in expected.alerts)
    assert actual.rejected == []
    assert actual.final.pending == ()
    assert list(actual.final.history) == actual.changes
    assert [c.version for c in actual.changes] == list(range(1, len(actual.changes) + 1))
    assert actual.changes[-1].status == actual.final.status
    assert all(a.status != b.status for a, b in itertools.pairwise(actual.changes))


@FAST
@given(branching_lifecycles(), st.data())
def test_events_waiting_for_their_order_are_replayed_in_event_time_order(
    in_order: list[OrderEvent], data: st.DataObject
) -> None:
    """When ``order_created`` arrives last, the wait hides the arrival order entirely."""
    early = data.draw(st.permutations(in_order[1:]))
    expected = fold(in_order)
    actual = fold([*early, in_order[0]])
    assert [c.to_wire() for c in actual.changes] == [c.to_wire() for c in expected.changes]
    assert actual.final == expected.final


@FAST
@given(arrivals(branching_lifecycles()), st.data())
def test_applying_an_event_again_changes_nothing_even_after_a_restore(
    case: tuple[list[OrderEvent], list[OrderEvent]], data: st.DataObject
) -> None:
    _, arrived = case
    state: OrderState | None = None
    offered: list[OrderEvent] = []
    for event in arrived:
        state = apply_event(state, event).state
        offered.append(event)
        # A crash right here: the agent restores the state from the changelog.
        restored = OrderState.from_dict(json.loads(json.dumps(state.to_dict())))
        assert restored == state
        replayed = data.draw(st.sampled_from(offered))
        for base in (state, restored):
            again = apply_event(base, replayed)
            assert again.duplicate
            assert again.state == state
            assert (again.changes, again.alerts, again.rejected) == ((), (), ())
