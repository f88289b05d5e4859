"""The one JSON reader and writer for values on the wire (orjson: fast and strict)."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["UndecodableValue", "decode_json_object", "encode_json"]


class UndecodableValue(ValueError):
    """Bytes that are not a UTF-8 JSON object."""


def encode_json(value: Any) -> bytes:
    """Encode a JSON-able value; money must already be a decimal string."""
    return orjson.dumps(value)


def decode_json_object(raw: bytes | None) -> dict[str, Any]:
    """Decode bytes that must hold one JSON object (DESIGN.md: all values are objects)."""
    if raw is None:
        raise UndecodableValue("value is empty (tombstone)")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise UndecodableValue(f"not UTF-8 JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UndecodableValue(f"JSON value is a {type(value).__name__}, not an object")
    return value
