"""The stored order state and the views built from it: exact JSON round trips."""

from __future__ import annotations

import json

import pytest

from domain.order_lifecycle import OrderNotCreated, OrderState, apply_hold, order_view
from domain.order_state import CorruptState
from tests.unit.domain.factories import at, authorized, cancelled, created, delivered, fold


def test_state_round_trips_through_json() -> None:
    run = fold([delivered(), created(), authorized(amount="30.00"), cancelled(minute=2)])
    state = apply_hold(run.final, "o-1", "velocity", "velocity:e-created", at(0)).state
    stored = json.loads(json.dumps(state.to_dict()))
    restored = OrderState.from_dict(stored)
    assert restored == state
    assert restored.to_dict() == stored


def test_corrupt_state_is_refused() -> None:
    stored = fold([created(), authorized()]).final.to_dict()
    with pytest.raises(CorruptState, match="does not follow from the facts"):
        OrderState.from_dict({**stored, "status": "DELIVERED"})
    with pytest.raises(CorruptState, match="unreadable"):
        OrderState.from_dict({**stored, "schema": 99})
    with pytest.raises(CorruptState, match="unreadable"):
        OrderState.from_dict({**stored, "applied": [{"type": "order_lost"}]})
    with pytest.raises(CorruptState, match="history"):
        OrderState.from_dict({**stored, "version": 7})


def test_order_view_is_the_design_answer() -> None:
    state = fold([created(), authorized()]).final
    assert order_view(state) == {
        "order_id": "o-1",
        "status": "PAID",
        "customer_id": "c-1",
        "total": "37.50",
        "currency": "EUR",
        "paid_amount": "37.50",
        "version": 2,
        "history": [
            {
                "status": "CREATED",
                "version": 1,
                "caused_by": "e-created",
                "occurred_at": "2026-11-21T10:00:00.000Z",
            },
            {
                "status": "PAID",
                "version": 2,
                "caused_by": "e-auth",
                "occurred_at": "2026-11-21T10:01:00.000Z",
            },
        ],
    }


def test_order_view_of_an_order_not_created() -> None:
    with pytest.raises(OrderNotCreated):
        order_view(fold([authorized()]).final)


def test_alert_is_the_alerts_record() -> None:
    alert = fold([created(), authorized(amount="1.00")]).alerts[0]
    assert alert.to_wire() == {
        "alert_id": "amount_mismatch:o-1:e-auth",
        "kind": "amount_mismatch",
        "order_id": "o-1",
        "customer_id": "c-1",
        "detail": alert.detail,
        "occurred_at": "2026-11-21T10:01:00.000Z",
    }
