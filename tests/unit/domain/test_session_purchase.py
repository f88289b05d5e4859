"""Session purchases: built from a created order, keyed by its session, read back exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.session_purchase import InvalidPurchase, SessionPurchase, purchase_from_order
from tests.unit.domain.factories import created


def test_a_created_order_becomes_a_session_purchase_keyed_by_its_session() -> None:
    order = created()
    purchase = purchase_from_order(order, 2)
    assert purchase.source_partition == 2
    assert purchase.key == order.session_id
    assert purchase.total == order.total and purchase.currency == order.currency
    assert purchase.items == tuple((item.sku, item.quantity) for item in order.items)
    assert SessionPurchase.from_wire(purchase.to_wire()) == purchase


def test_an_order_without_session_is_keyed_by_its_order_id() -> None:
    purchase = SessionPurchase(
        order_id="o-9",
        session_id=None,
        customer_id="c-1",
        currency="EUR",
        total=Decimal("3.00"),
        items=(("a", 1), ("b", 1), ("a", 2)),
        occurred_at=created().occurred_at,
    )
    assert purchase.key == "o-9"
    assert purchase.units_per_sku() == {"a": 3, "b": 1}
    assert purchase.to_wire()["total"] == "3.00"


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"total": 3.5}, "decimal string"),
        ({"items": [{"sku": "a", "quantity": 0}]}, "positive integer"),
        ({"items": [{"sku": "a"}]}, "missing"),
        ({"occurred_at": "soon"}, "ISO-8601"),
        ({"order_id": ""}, "order_id"),
        ({"source_partition": "2"}, "source_partition"),
    ],
)
def test_an_unreadable_record_says_why(change: dict[str, object], reason: str) -> None:
    wire = {**purchase_from_order(created()).to_wire(), **change}
    with pytest.raises(InvalidPurchase, match=reason):
        SessionPurchase.from_wire(wire)
