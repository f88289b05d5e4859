"""Dead-letter records carry DESIGN.md's fields and the original bytes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from app.kafka.dead_letters import DeadLetter, dead_letter_record


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
    }
    assert base64.b64decode(record["value_b64"]) == b"\xff not json"
    assert record["key"] == "o-1"
    assert record["first_failed_at"] == record["last_failed_at"] == "2026-11-21T10:00:00.000Z"
