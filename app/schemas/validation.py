"""Validate a decoded value against a JSON Schema document, with the spec's regex semantics.

``pattern`` in JSON Schema is an ECMA-262 regular expression; Python's ``re``
differs on one point that matters here: ``$`` also matches before a final
newline, so ``^[A-Z]{3}$`` would accept ``"EUR\\n"``. The validator built here
reads a final ``$`` as the end of the string, so a document accepts in Python
what it accepts in other languages, and what the worker's own checks accept.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator, ValidationError
from jsonschema.protocols import Validator

__all__ = ["SchemaViolation", "first_violation", "validator_for"]


class SchemaViolation(ValueError):
    """A value that its writer's schema refuses; the message names the field."""


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r:.60} does not match {pattern!r}")


def validator_for(document: Mapping[str, Any]) -> Validator:
    """A validator for ``document``, of the draft its ``$schema`` names (default 2020-12)."""
    base = jsonschema.validators.validator_for(document, default=Draft202012Validator)
    extended = jsonschema.validators.extend(base, {"pattern": _pattern})
    return extended(document)


def _where(error: ValidationError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.removeprefix(".") or "value"


def first_violation(validator: Validator, value: Any) -> str | None:
    """None when ``value`` is valid, else one line: the field and what is wrong with it.

    For ``oneOf`` documents (one branch per event type) the reason given is
    that of the branch the value's ``type`` selects, not "valid under none".
    """
    errors = list(validator.iter_errors(value))
    if not errors:
        return None
    chosen = [_selected_branch_error(e, value) for e in errors if e.validator == "oneOf"]
    error = chosen[0] if chosen else jsonschema.exceptions.best_match(errors)
    return f"{_where(error)}: {error.message:.200}"


def _selected_branch_error(error: ValidationError, value: Any) -> ValidationError:
    """The error inside the ``oneOf`` branch whose ``type`` const matches the value's."""
    if error.validator != "oneOf" or not isinstance(value, Mapping):
        return error
    for index, branch in enumerate(error.validator_value):
        const = branch.get("properties", {}).get("type", {}).get("const")
        if const is not None and const == value.get("type"):
            inside = [e for e in error.context or () if e.relative_schema_path[0] == index]
            if inside:
                return jsonschema.exceptions.best_match(inside)
    return error
