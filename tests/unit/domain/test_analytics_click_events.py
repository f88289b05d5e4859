"""Clickstream validation: DESIGN.md shapes, nullable fields, the key of the record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.click_events import ClickType, InvalidClickEvent, click_event_from_wire


def wire(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "event_id": "e-5",
        "type": "product_view",
        "session_id": "s-1",
        "customer_id": "c-1",
        "sku": "sku-1",
        "category": "books",
        "occurred_at": "2026-11-21T10:00:00.123456+00:00",
    }
    value.update(changes)
    return {k: v for k, v in value.items() if v is not ...}


def test_a_design_md_event_is_read_and_cut_to_milliseconds() -> None:
    event = click_event_from_wire(wire(extra_field="tolerated"), key=b"s-1")
    assert event.type is ClickType.PRODUCT_VIEW
    assert (event.event_id, event.session_id, event.sku, event.category) == (
        "e-5",
        "s-1",
        "sku-1",
        "books",
    )
    assert event.occurred_at == datetime(2026, 11, 21, 10, 0, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize("field", ["customer_id", "sku", "category"])
def test_customer_sku_and_category_may_be_null_or_absent(field: str) -> None:
    assert getattr(click_event_from_wire(wire(**{field: None})), field) is None
    assert getattr(click_event_from_wire(wire(**{field: ...})), field) is None


@pytest.mark.parametrize("kind", [t.value for t in ClickType])
def test_every_type_of_the_contract_is_accepted(kind: str) -> None:
    assert click_event_from_wire(wire(type=kind)).type.value == kind


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"event_id": ...}, "event_id is missing"),
        ({"session_id": None}, "session_id is missing"),
        ({"occurred_at": ...}, "occurred_at must be an ISO-8601 string"),
        ({"occurred_at": "2026-11-21T10:00:00"}, "no timezone"),
        ({"type": "video_play"}, "unknown type"),
        ({"type": ...}, "type is missing"),
        ({"type": 3}, "type must be a string"),
        ({"sku": 17}, "sku must be a string"),
        ({"sku": "  "}, "sku is empty"),
        ({"session_id": "s" * 129}, "longer than 128"),
    ],
)
def test_invalid_events_say_why(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidClickEvent, match=reason):
        click_event_from_wire(wire(**changes))


def test_an_event_keyed_by_another_session_is_on_the_wrong_partition() -> None:
    with pytest.raises(InvalidClickEvent, match="wrong partition"):
        click_event_from_wire(wire(), key=b"s-2")
