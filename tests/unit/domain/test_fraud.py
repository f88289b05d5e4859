"""Fraud velocity per customer over a sliding hour of event time."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.fraud import (
    CorruptVelocity,
    CustomerVelocity,
    FraudVerdict,
    InvalidFraudInput,
    record_order,
)
from domain.order_events import OrderEvent, order_event_from_wire
from tests.unit.domain.factories import authorized, wire_created

LIMITS: dict[str, Any] = {"max_orders": 3, "max_amount": Decimal("100.00")}


def order(
    index: int, minute: float, *, currency: str = "EUR", customer_id: str = "c-1"
) -> OrderEvent:
    """Order ``o-<index>`` of 37.50 at ``minute`` after T0."""
    value = wire_created(
        f"e-{index}",
        order_id=f"o-{index}",
        customer_id=customer_id,
        currency=currency,
        minute=minute,
    )
    return order_event_from_wire("orders", value)


def record_all(
    orders: Iterable[OrderEvent], state: CustomerVelocity | None = None, **limits: Any
) -> list[FraudVerdict]:
    verdicts = []
    for event in orders:
        verdict = record_order(state, event, **{**LIMITS, **limits})
        verdicts.append(verdict)
        state = verdict.state
    return verdicts


def flagged_ids(verdicts: list[FraudVerdict]) -> set[str]:
    return {f.event_id for v in verdicts for f in v.newly_flagged}


@pytest.mark.parametrize(
    ("minutes", "limits", "flagged"),
    [
        ([0, 10, 20], {"max_amount": Decimal("1000")}, []),
        ([0, 10, 20, 30], {"max_amount": Decimal("1000")}, ["e-3"]),
        ([0, 10, 20, 30, 40], {"max_amount": Decimal("1000")}, ["e-3", "e-4"]),
        # the window is (t - 1h, t]: an order exactly one hour earlier is out
        ([0, 10, 20, 60], {"max_amount": Decimal("1000")}, []),
        ([0, 10, 20, 59.99], {"max_amount": Decimal("1000")}, ["e-3"]),
        # 3 x 37.50 = 112.50 > 100.00
        ([0, 10, 20], {"max_orders": 10}, ["e-2"]),
        ([0, 30, 90], {"max_orders": 10}, []),
    ],
)
def test_sliding_hour_limits(
    minutes: list[float], limits: dict[str, Any], flagged: list[str]
) -> None:
    verdicts = record_all((order(i, m) for i, m in enumerate(minutes)), **limits)
    assert [v.flagged for v in verdicts] == [f"e-{i}" in flagged for i in range(len(minutes))]
    assert flagged_ids(verdicts) == set(flagged)


def test_amounts_are_summed_per_currency() -> None:
    orders = [order(0, 0), order(1, 1, currency="USD"), order(2, 2)]
    verdicts = record_all(orders, max_orders=10, max_amount=Decimal("75.00"))
    assert [v.flagged for v in verdicts] == [False, False, False]
    verdicts = record_all([*orders, order(3, 3)], max_orders=10, max_amount=Decimal("75.00"))
    assert verdicts[-1].flagged
    assert verdicts[-1].detail == (
        "112.50 EUR ordered in the 1h up to 2026-11-21T10:03:00.000Z (limit 75.00)"
    )


def test_detail_names_the_count_and_the_limit() -> None:
    verdict = record_all(order(i, i) for i in range(4))[-1]
    assert verdict.detail == "4 orders in the 1h up to 2026-11-21T10:03:00.000Z (limit 3)"
    assert verdict.newly_flagged[0].hold_id == "velocity:e-3"


def test_recording_the_same_order_twice_changes_nothing() -> None:
    verdicts = record_all(order(i, i) for i in range(4))
    again = record_order(verdicts[-1].state, order(3, 3), **LIMITS)
    assert again.duplicate
    assert again.state == verdicts[-1].state
    assert (again.flagged, again.detail) == (True, verdicts[-1].detail)
    assert again.newly_flagged == ()


def test_a_late_order_flags_the_later_order_whose_window_it_completes() -> None:
    orders = [order(1, 10), order(2, 20), order(3, 30), order(0, 0)]
    verdicts = record_all(orders, max_amount=Decimal("1000"))
    assert [v.flagged for v in verdicts] == [False, False, False, False]
    assert [f.order_id for f in verdicts[-1].newly_flagged] == ["o-3"]


def test_old_orders_are_pruned_but_late_ones_within_the_lateness_still_count() -> None:
    # kept: one window plus one window of lateness (2h) behind the newest order
    state = record_all([order(0, 0), order(1, 121)], max_orders=1)[-1].state
    assert [e.order_id for e in state.orders] == ["o-1"]
    late = record_order(state, order(2, 70), max_orders=1, max_amount=Decimal("1000"))
    assert [e.order_id for e in late.state.orders] == ["o-2", "o-1"]
    assert [f.order_id for f in late.newly_flagged] == ["o-1"]


def test_state_round_trips_through_json() -> None:
    state = record_all(order(i, i) for i in range(5))[-1].state
    stored = json.loads(json.dumps(state.to_dict()))
    assert CustomerVelocity.from_dict(stored) == state
    assert CustomerVelocity.from_dict(stored).to_dict() == stored
    with pytest.raises(CorruptVelocity):
        CustomerVelocity.from_dict({**stored, "orders": [{"total": 3.5}]})


def test_an_entry_is_formatted_once_and_a_flagged_copy_anew() -> None:
    verdicts = record_all([order(0, 0), order(1, 1), order(2, 2)], max_orders=2)
    before = record_all([order(0, 0), order(1, 1)], max_orders=2)[-1].state
    first = before.to_dict()["orders"][0]
    assert before.to_dict()["orders"][0] is first, "kept, not formatted again"
    flagged = verdicts[-1].state.to_dict()["orders"]
    assert [entry["flag"] is not None for entry in flagged] == [False, False, True]
    assert flagged == json.loads(json.dumps(flagged))
    assert verdicts[-1].state == CustomerVelocity.from_dict(verdicts[-1].state.to_dict())


def test_only_orders_of_the_same_customer_are_counted() -> None:
    state = record_all([order(0, 0)])[-1].state
    with pytest.raises(InvalidFraudInput, match="customer"):
        record_order(state, order(1, 1, customer_id="c-2"), **LIMITS)
    with pytest.raises(InvalidFraudInput, match="order_created"):
        record_order(state, authorized(), **LIMITS)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=150), min_size=1, max_size=12),
    st.integers(min_value=1, max_value=4),
    st.data(),
)
def test_flagged_orders_do_not_depend_on_arrival_order(
    minutes: list[int], max_orders: int, data: st.DataObject
) -> None:
    """Within the lateness (one window by default) every arrival order flags the same orders."""
    orders = [order(i, m) for i, m in enumerate(minutes)]
    arrived = data.draw(st.permutations(orders))
    limits: dict[str, Any] = {"max_orders": max_orders, "max_amount": Decimal("150.00")}
    # Lateness covers the whole generated span, so nothing is pruned too early.
    in_order = record_all(sorted(orders, key=lambda e: e.occurred_at), **limits)
    shuffled = record_all(arrived, lateness=timedelta(hours=3), **limits)
    assert flagged_ids(shuffled) == flagged_ids(in_order)
