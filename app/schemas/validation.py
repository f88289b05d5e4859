"""Validate a decoded value against a JSON Schema document, with the spec's regex semantics.

``pattern`` in JSON Schema is an ECMA-262 regular expression; Python's ``re``
differs on one point that matters here: ``$`` also matches before a final
newline, so ``^[A-Z]{3}$`` would accept ``"EUR\\n"``. The validator built here
reads a final ``$`` as the end of the string, so a document accepts in Python
what it accepts in other languages, and what the worker's own checks accept.

Validation is on the per-record path of framed input, so :class:`SchemaCheck`
prepares a document once: local ``$ref`` are inlined (resolving them per
value dominated the cost), and a ``oneOf`` whose branches each fix ``type``
to a constant (one branch per event type) validates only the branch the
value's ``type`` names, which is what ``oneOf`` means when the constants differ.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator, ValidationError
from jsonschema.protocols import Validator

__all__ = [
    "SchemaCheck",
    "SchemaViolation",
    "first_violation",
    "inlined",
    "resolve_ref",
    "validator_for",
]


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


_MAX_INLINE_DEPTH = 32


def resolve_ref(schema: Any, root: Mapping[str, Any]) -> Any:
    """``schema``, or what its local ``$ref`` (``#/...``, JSON pointer) points at in ``root``.

    Raises ``ValueError`` for a reference to another document.
    """
    for _ in range(_MAX_INLINE_DEPTH):
        ref = schema.get("$ref") if isinstance(schema, Mapping) else None
        if ref is None:
            return schema
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise ValueError(f"only local $ref is supported, not {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        schema = target
    raise RecursionError("$ref points at $ref too many times")


def inlined(node: Any, root: Mapping[str, Any], depth: int = 0) -> Any:
    """``node`` with local ``$ref`` replaced by their targets; raises RecursionError if cyclic."""
    if depth > _MAX_INLINE_DEPTH:
        raise RecursionError("recursive $ref")
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            target = resolve_ref({"$ref": ref}, root)
            return {**inlined(target, root, depth + 1), **inlined(siblings, root, depth)}
        return {k: inlined(v, root, depth) for k, v in node.items()}
    if isinstance(node, list):
        return [inlined(item, root, depth) for item in node]
    return node


def _branch_const(branch: Any) -> Any:
    if not isinstance(branch, Mapping):
        return None
    return branch.get("properties", {}).get("type", {}).get("const")


class SchemaCheck:
    """One document, prepared for validating many values (see the module docstring).

    Raises ``jsonschema.exceptions.SchemaError`` for a document that is not a
    valid schema of its draft.
    """

    def __init__(self, document: Mapping[str, Any]) -> None:
        base = jsonschema.validators.validator_for(document, default=Draft202012Validator)
        base.check_schema(document)
        self.validator = validator_for(document)
        try:
            prepared = inlined(document, document)
        except (RecursionError, KeyError, TypeError):
            prepared = None
        self._fast: Validator | None = None
        self._branches: dict[Any, Validator] = {}
        if prepared is None:
            return
        self._fast = validator_for(prepared)
        branches = prepared.get("oneOf")
        others = set(prepared) - {"oneOf", "$schema", "$id", "$defs", "title", "description"}
        consts = [_branch_const(b) for b in branches] if isinstance(branches, list) else []
        distinct_strings = all(isinstance(c, str) for c in consts) and len(set(consts)) == len(
            consts
        )
        if consts and distinct_strings and not others:
            self._branches = {
                const: validator_for({"$schema": prepared.get("$schema"), **branch})
                for const, branch in zip(consts, branches, strict=True)
            }

    def violation(self, value: Any) -> str | None:
        """None when ``value`` is valid, else one line naming the field (:func:`first_violation`)."""
        if self._branches and isinstance(value, Mapping):
            kind = value.get("type")
            branch = self._branches.get(kind) if isinstance(kind, str) else None
            if branch is not None:
                return first_violation(branch, value)
        return first_violation(self._fast or self.validator, value)


def _where(error: ValidationError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.removeprefix(".") or "value"


def first_violation(validator: Validator | SchemaCheck, value: Any) -> str | None:
    """None when ``value`` is valid, else one line: the field and what is wrong with it.

    For ``oneOf`` documents (one branch per event type) the reason given is
    that of the branch the value's ``type`` selects, not "valid under none".
    """
    if isinstance(validator, SchemaCheck):
        return validator.violation(value)
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
