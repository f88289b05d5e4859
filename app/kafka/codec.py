"""The one JSON reader and writer for values on the wire (orjson: fast and strict).

A value is plain JSON or JSON in the Confluent wire format: byte ``0x00``, a
4-byte big-endian schema id, then the JSON (DESIGN.md "Schemas"). JSON text
never starts with ``0x00``, so the first byte tells them apart; every reader
goes through :func:`decode_value` (or :func:`decode_json_object`) and so takes
both. Whether the schema id is checked is the caller's business
(:mod:`app.schemas.writer_schemas`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, NamedTuple

import orjson

__all__ = [
    "MAGIC_BYTE",
    "Decoded",
    "UndecodableValue",
    "decode_json_object",
    "decode_value",
    "encode_json",
    "frame",
]

#: First byte of a value in the Confluent wire format.
MAGIC_BYTE = 0
_HEADER = 5  # magic byte + 4-byte schema id


class Decoded(NamedTuple):
    """A decoded value and, for a framed one, the schema id it names."""

    value: dict[str, Any]
    schema_id: int | None


class UndecodableValue(ValueError):
    """Bytes that are not a UTF-8 JSON object."""


#: Encode a JSON-able value; money must already be a decimal string. orjson's own
#: function, not a wrapper: the analytics commit encodes a row per call.
encode_json: Final[Callable[[Any], bytes]] = orjson.dumps


def frame(schema_id: int, payload: bytes) -> bytes:
    """``payload`` (JSON bytes) in the Confluent wire format with ``schema_id``."""
    return bytes((MAGIC_BYTE,)) + schema_id.to_bytes(4, "big") + payload


def decode_value(raw: bytes | None) -> Decoded:
    """Decode one JSON object, plain or framed (then with its schema id)."""
    if raw is None:
        raise UndecodableValue("value is empty (tombstone)")
    if raw[:1] == b"\x00":
        if len(raw) < _HEADER:
            raise UndecodableValue(f"framed value of {len(raw)} bytes: shorter than its header")
        return Decoded(_json_object(raw[_HEADER:]), int.from_bytes(raw[1:_HEADER], "big"))
    return Decoded(_json_object(raw), None)


def decode_json_object(raw: bytes | None) -> dict[str, Any]:
    """Decode bytes that hold one JSON object (DESIGN.md: all values are objects).

    A framed value is unwrapped: readers of ShopStream's own outputs (with
    ``SHOPSTREAM_OUTPUT_FORMAT=confluent-json``) need not care.
    """
    return decode_value(raw).value


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UndecodableValue(f"not UTF-8 JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UndecodableValue(f"JSON value is a {type(value).__name__}, not an object")
    return value
