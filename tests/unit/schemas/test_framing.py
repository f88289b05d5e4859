"""The one decoder takes plain and framed (Confluent wire format) values alike."""

from __future__ import annotations

import pytest

from app.kafka.codec import Decoded, UndecodableValue, decode_json_object, decode_value, frame
from app.schemas.writer_schemas import framed_schema_ids


def test_plain_json_has_no_schema_id() -> None:
    assert decode_value(b'{"a": 1}') == Decoded({"a": 1}, None)


def test_a_framed_value_names_its_schema_id() -> None:
    framed = frame(258, b'{"a": 1}')

    assert framed[:5] == b"\x00\x00\x00\x01\x02"
    assert decode_value(framed) == Decoded({"a": 1}, 258)
    assert decode_json_object(framed) == {"a": 1}  # readers of outputs need not care
    assert list(framed_schema_ids([framed, b"{}", None, b"\x00\x01"])) == [258]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x00\x00\x01", "shorter than its header"),
        (frame(7, b"[1]"), "not an object"),
        (frame(7, b"{"), "not UTF-8 JSON"),
        (None, "tombstone"),
    ],
)
def test_broken_values_are_refused_with_a_reason(raw: bytes | None, reason: str) -> None:
    with pytest.raises(UndecodableValue, match=reason):
        decode_value(raw)


def test_the_load_generator_frames_about_its_share_of_valid_events_only() -> None:
    from datetime import UTC, datetime

    from loadgen import SimulationOptions, generate_events
    from loadgen.framing import frame_share

    options = SimulationOptions(
        count=2000, seed=5, start_time=datetime(2026, 11, 21, tzinfo=UTC), fraction_malformed=0.05
    )
    ids = {"orders": 1, "payments": 2, "shipments": 3, "clickstream": 4}
    plain = list(generate_events(options))
    mixed = list(frame_share(plain, share=0.3, schema_ids=ids, seed=5))

    framed = [(p, m) for p, m in zip(plain, mixed, strict=True) if m.value != p.value]
    assert 0.25 < len(framed) / len(plain) < 0.35
    for original, sent in framed:
        assert original.is_valid
        assert decode_value(sent.value) == Decoded(
            decode_json_object(original.value), ids[sent.topic]
        )
    assert mixed == list(frame_share(plain, share=0.3, schema_ids=ids, seed=5))


@pytest.mark.parametrize("kind", [[], {}, 3, None, "order_amended"])
def test_a_value_whose_type_names_no_branch_is_refused_not_raised(kind: object) -> None:
    from app.schemas.documents import document_validator

    assert document_validator("orders").violation({"type": kind}) is not None


async def test_without_a_registry_framed_values_are_decoded_and_their_id_not_checked() -> None:
    from app.schemas.writer_schemas import WriterSchemas

    writer_schemas = WriterSchemas(None)
    decoded = decode_value(frame(424242, b'{"type": "anything"}'))

    await writer_schemas.prepare([decoded.schema_id])  # no registry: nothing to wait for
    writer_schemas.check(decoded)  # no UnknownSchemaId, no SchemaViolation
    assert decoded.value == {"type": "anything"}
