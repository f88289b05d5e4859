"""The repository's JSON Schema documents: one per contract topic value, by subject.

Subjects follow the topic-name strategy (``<topic>-value``). The documents are
read as files (``schemas/<subject>.json``) so that what is registered is exactly
what is in the repository, byte for byte.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from app.kafka import topic_names
from app.schemas.validation import SchemaCheck, inlined

__all__ = [
    "CONTRACT_TOPICS",
    "document_for",
    "document_text",
    "document_validator",
    "property_schema",
    "subject_for",
    "topic_of_subject",
]

#: Every topic of DESIGN.md's contract: inputs, then outputs.
CONTRACT_TOPICS: tuple[str, ...] = (
    *topic_names.INPUT_TOPICS,
    topic_names.ORDER_STATUS,
    topic_names.ALERTS,
    topic_names.DEAD_LETTERS,
)

_SUFFIX = "-value"


def subject_for(topic: str) -> str:
    """The registry subject of ``topic``'s values (topic-name strategy)."""
    return f"{topic}{_SUFFIX}"


def topic_of_subject(subject: str) -> str | None:
    """The contract topic a subject belongs to, or None."""
    topic = subject.removesuffix(_SUFFIX)
    return topic if subject.endswith(_SUFFIX) and topic in CONTRACT_TOPICS else None


@functools.cache
def document_text(topic: str) -> str:
    """The document of ``topic`` as stored in the repository (the registered text)."""
    if topic not in CONTRACT_TOPICS:
        raise KeyError(f"{topic!r} is not a contract topic")
    return resources.files("schemas").joinpath(f"{subject_for(topic)}.json").read_text("utf-8")


def document_for(topic: str) -> dict[str, Any]:
    """The document of ``topic``, parsed (a fresh copy: callers may change it)."""
    document: dict[str, Any] = json.loads(document_text(topic))
    return document


@functools.cache
def document_validator(topic: str) -> SchemaCheck:
    """A prepared check of the repository's document of ``topic``, built once."""
    return SchemaCheck(document_for(topic))


def property_schema(topic: str, name: str) -> dict[str, Any]:
    """The schema of one property of ``topic``'s values, self-contained (``$ref`` inlined).

    For documents that describe the same objects, e.g. the OpenAPI document's
    order history, which holds ``order-status`` changes.
    """
    document = document_for(topic)
    schema: dict[str, Any] = inlined(document["properties"][name], document)
    return schema
