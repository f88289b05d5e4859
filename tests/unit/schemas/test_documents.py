"""The schema documents are well-formed 2020-12 and say what the code says, word for word."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from app.schemas.documents import CONTRACT_TOPICS, document_for, subject_for, topic_of_subject
from domain.click_events import ClickType
from domain.money import MONEY_PATTERN
from domain.order_events import MAX_ID_LENGTH, MAX_TEXT_LENGTH, TOPIC_OF_TYPE
from domain.order_outputs import OrderStatus
from domain.timefmt import EVENT_TIME_PATTERN
from tests.support.schema_values import SUPPORTED_KEYWORDS


def _keywords(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = set(node) - {"properties", "$defs"}
        for key, child in node.items():
            if key in ("properties", "$defs"):
                for sub in child.values():
                    found |= _keywords(sub)
            elif isinstance(child, dict | list):
                found |= _keywords(child)
        return found
    if isinstance(node, list):
        return set().union(*(_keywords(item) for item in node)) if node else set()
    return set()


@pytest.mark.parametrize("topic", CONTRACT_TOPICS)
def test_each_document_is_a_valid_closed_2020_12_schema(topic: str) -> None:
    document = document_for(topic)

    Draft202012Validator.check_schema(document)
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert document["$id"] == f"urn:shopstream:schema:{subject_for(topic)}"
    assert _keywords(document) <= SUPPORTED_KEYWORDS  # what the compatibility check understands
    objects = [document, *document.get("oneOf", ())]
    assert all(o.get("additionalProperties") is False for o in objects if "properties" in o)


@pytest.mark.parametrize("topic", CONTRACT_TOPICS)
def test_shared_definitions_are_the_workers_rules(topic: str) -> None:
    definitions = document_for(topic)["$defs"]

    assert definitions["time"]["pattern"] == EVENT_TIME_PATTERN
    for name, rule in definitions.items():
        if "money" in name:
            assert rule["pattern"] == MONEY_PATTERN
        if name.endswith("id"):
            assert rule["maxLength"] == MAX_ID_LENGTH
        if name == "text":
            assert rule["maxLength"] == MAX_TEXT_LENGTH


def test_event_types_and_statuses_are_the_domains() -> None:
    for topic in ("orders", "payments", "shipments"):
        branches = document_for(topic)["oneOf"]
        types = {branch["properties"]["type"]["const"] for branch in branches}
        assert types == {str(t) for t, on in TOPIC_OF_TYPE.items() if on == topic}
    clicks = document_for("clickstream")["properties"]["type"]["enum"]
    assert clicks == [str(t) for t in ClickType]
    status = document_for("order-status")["properties"]
    assert status["status"]["enum"] == [str(s) for s in OrderStatus]
    assert status["previous_status"]["enum"] == [*(str(s) for s in OrderStatus), None]


def test_subjects_follow_the_topic_name_strategy() -> None:
    assert subject_for("order-status") == "order-status-value"
    assert topic_of_subject("order-status-value") == "order-status"
    assert topic_of_subject("order-status-key") is None
    assert topic_of_subject("unknown-value") is None
