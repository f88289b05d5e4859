"""The compatibility check names the field a change breaks, and lets compatible changes pass."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from app.schemas.compatibility import (
    UnsupportedSchema,
    backward_incompatibilities,
    transitive_incompatibilities,
)
from app.schemas.documents import CONTRACT_TOPICS, document_for

Change = Callable[[dict[str, Any]], None]


def _created(doc: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in doc["oneOf"] if b["properties"]["type"]["const"] == "order_created")


def _add_optional_coupon(doc: dict[str, Any]) -> None:
    _created(doc)["properties"]["coupon"] = {"type": ["string", "null"]}


def _integer_or_number(doc: dict[str, Any]) -> None:
    doc["$defs"]["items"]["items"]["properties"]["quantity"]["type"] = "number"


def _new_event_type(doc: dict[str, Any]) -> None:
    doc["oneOf"].append(
        {
            "type": "object",
            "properties": {"type": {"const": "order_amended"}},
            "required": ["type"],
            "additionalProperties": False,
        }
    )


def _longer_reason(doc: dict[str, Any]) -> None:
    doc["$defs"]["text"]["maxLength"] = 1024


COMPATIBLE: list[tuple[str, Change]] = [
    ("an optional field", _add_optional_coupon),
    ("integer -> number", _integer_or_number),
    ("a new event type", _new_event_type),
    ("a looser bound", _longer_reason),
]


@pytest.mark.parametrize(("name", "change"), COMPATIBLE, ids=[c[0] for c in COMPATIBLE])
def test_compatible_changes_pass(name: str, change: Change) -> None:
    old = document_for("orders")
    new = copy.deepcopy(old)
    change(new)

    assert backward_incompatibilities(new, old) == []


def _set(path: str, value: Any) -> Change:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value

    return change


def _drop_cancel(doc: dict[str, Any]) -> None:
    del doc["oneOf"][1]


def _remove_session(doc: dict[str, Any]) -> None:
    del _created(doc)["properties"]["session_id"]


def _require_session(doc: dict[str, Any]) -> None:
    _created(doc)["required"].append("session_id")


def _open_model(doc: dict[str, Any]) -> None:
    del doc["oneOf"][1]["additionalProperties"]


BREAKING: list[tuple[str, Change, str]] = [
    (
        "unit_price becomes a number",
        _set("$defs/items/items/properties/unit_price", {"type": "number"}),
        "order_created.items[].unit_price: type ['string'] -> ['number']",
    ),
    ("session_id becomes required", _require_session, "order_created.session_id: is now required"),
    ("session_id removed", _remove_session, "order_created.session_id: was removed"),
    ("order_cancelled dropped", _drop_cancel, "order_cancelled"),
    ("a shorter id", _set("$defs/id/maxLength", 64), "order_created.event_id: maxLength 128 -> 64"),
    (
        "another money syntax",
        _set("$defs/money/pattern", "^[0-9]+$"),
        "order_created.total: pattern",
    ),
    ("fewer lines", _set("$defs/items/maxItems", 10), "order_created.items: maxItems 1000 -> 10"),
]


@pytest.mark.parametrize(("name", "change", "named"), BREAKING, ids=[b[0] for b in BREAKING])
def test_breaking_changes_name_the_field(name: str, change: Change, named: str) -> None:
    old = document_for("orders")
    new = copy.deepcopy(old)
    change(new)

    problems = [str(p) for p in backward_incompatibilities(new, old)]

    assert any(p.startswith(named) or named in p for p in problems), problems


def test_adding_a_field_to_an_open_model_is_breaking_like_in_the_registry() -> None:
    old = document_for("orders")
    _open_model(old)
    new = copy.deepcopy(old)
    new["oneOf"][1]["properties"]["note"] = {"type": "string"}

    problems = [str(p) for p in backward_incompatibilities(new, old)]

    assert any(p.startswith("order_cancelled.note: added to an open model") for p in problems)


def test_enum_values_may_be_added_not_removed() -> None:
    old = document_for("clickstream")
    more, fewer = copy.deepcopy(old), copy.deepcopy(old)
    more["properties"]["type"]["enum"].append("wishlist_add")
    fewer["properties"]["type"]["enum"].remove("search")

    assert backward_incompatibilities(more, old) == []
    assert [str(p) for p in backward_incompatibilities(fewer, old)] == [
        "type: no longer accepts ['search']"
    ]


def test_transitive_checks_every_earlier_version() -> None:
    v1 = document_for("clickstream")
    v2 = copy.deepcopy(v1)
    v2["properties"]["type"]["enum"].append("wishlist_add")
    v3 = copy.deepcopy(v1)  # drops wishlist_add again: fine against v1, breaking against v2

    problems = transitive_incompatibilities(v3, [("1", v1), ("2", v2)])

    assert [(label, str(p)) for label, p in problems] == [
        ("2", "type: no longer accepts ['wishlist_add']")
    ]


@pytest.mark.parametrize("topic", CONTRACT_TOPICS)
def test_every_document_is_compatible_with_itself(topic: str) -> None:
    assert backward_incompatibilities(document_for(topic), document_for(topic)) == []


def test_an_unknown_keyword_is_refused_not_ignored() -> None:
    new = document_for("alerts")
    new["properties"]["kind"]["maxContains"] = 1

    with pytest.raises(UnsupportedSchema, match="maxContains"):
        backward_incompatibilities(new, document_for("alerts"))
