"""Dead-letter records carry DESIGN.md's fields and the original bytes, and always fit the topic."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime

import orjson

from app.kafka.dead_letters import (
    ERROR_MAX_CHARS,
    KEY_MAX_BYTES,
    LETTER_MAX_BYTES,
    VALUE_PREFIX_BYTES,
    DeadLetter,
    dead_letter_record,
    encode_letter,
)
from app.schemas.documents import document_validator
from app.schemas.validation import first_violation

#: The broker's default limit on one input record (message.max.bytes).
BROKER_LIMIT = 1_048_588


def _letter(key: bytes | None, value: bytes | None, error: str = "not UTF-8 JSON") -> DeadLetter:
    return DeadLetter(
        source_topic="orders",
        partition=2,
        offset=17,
        key=key,
        value=value,
        error_type="UndecodableValue",
        error=error,
        stage="decode",
    )


def test_record_has_every_contract_field_and_the_original_bytes() -> None:
    now = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    record = dead_letter_record(
        DeadLetter(
            source_topic="orders",
            partition=2,
            offset=17,
            key=b"o-1",
            value=b"\xff not json",
            error_type="UndecodableValue",
            error="not UTF-8 JSON",
            stage="decode",
        ),
        now=now,
    )
    assert set(record) == {
        "source_topic",
        "partition",
        "offset",
        "key",
        "value_b64",
        "error_type",
        "error",
        "stage",
        "attempts",
        "first_failed_at",
        "last_failed_at",
        # added for letters too large to carry whole (issue 15)
        "key_truncated",
        "value_size",
        "value_sha256",
        "value_truncated",
    }
    assert base64.b64decode(record["value_b64"]) == b"\xff not json"
    assert record["key"] == "o-1"
    assert record["first_failed_at"] == record["last_failed_at"] == "2026-11-21T10:00:00.000Z"
    assert record["value_size"] == 10 and record["value_truncated"] is False
    assert record["value_sha256"] == hashlib.sha256(b"\xff not json").hexdigest()


def test_a_value_up_to_the_broker_limit_is_carried_as_size_hash_and_prefix() -> None:
    value = os.urandom(BROKER_LIMIT - 100)
    key, encoded = encode_letter(_letter(b"o-1", value))
    record = orjson.loads(encoded)
    assert len(encoded) + len(key or b"") <= LETTER_MAX_BYTES
    assert record["value_truncated"] is True
    assert base64.b64decode(record["value_b64"]) == value[:VALUE_PREFIX_BYTES]
    assert record["value_size"] == len(value)
    assert record["value_sha256"] == hashlib.sha256(value).hexdigest()
    assert (record["source_topic"], record["partition"], record["offset"]) == ("orders", 2, 17)


def test_a_value_that_fits_is_carried_whole() -> None:
    value = b"x" * 600_000  # base64: 800,000 bytes
    _, encoded = encode_letter(_letter(b"o-1", value))
    record = orjson.loads(encoded)
    assert record["value_truncated"] is False
    assert base64.b64decode(record["value_b64"]) == value


def test_a_huge_key_and_reason_are_cut_in_the_letter_and_its_kafka_key() -> None:
    huge_key = b"\xff" * (BROKER_LIMIT // 2)
    key, encoded = encode_letter(_letter(huge_key, b"{}", error="e" * 100_000))
    record = orjson.loads(encoded)
    assert key == huge_key[:KEY_MAX_BYTES] and record["key_truncated"] is True
    assert len(record["error"]) < ERROR_MAX_CHARS + 100
    assert len(encoded) + len(key) <= LETTER_MAX_BYTES


def test_a_tombstone_has_no_value_size_or_hash() -> None:
    key, encoded = encode_letter(_letter(None, None))
    record = orjson.loads(encoded)
    assert key is None and record["key"] is None and record["key_truncated"] is False
    assert record["value_b64"] is None and record["value_size"] is None
    assert record["value_sha256"] is None and record["value_truncated"] is False


def test_truncated_and_pending_letters_match_the_published_schema() -> None:
    """The dead-letters document accepts a giant value's letter and a parked event's (offset -1)."""
    validator = document_validator("dead-letters")
    giant = orjson.loads(encode_letter(_letter(b"\xff" * 5000, os.urandom(BROKER_LIMIT)))[1])
    parked = dead_letter_record(
        DeadLetter("payments", 1, -1, b"o-1", b"{}", "Rejected", "waited too long", "pending")
    )
    assert first_violation(validator, giant) is None
    assert first_violation(validator, parked) is None
