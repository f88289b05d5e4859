"""Would a changed document break existing producers? Field by field, for JSON Schema.

The registry's own checks cannot serve here: Apicurio 2.6 checks JSON Schema
with a library that knows drafts 4 to 7 only (a 2020-12 document makes it
answer HTTP 500), and neither it nor ``?verbose=true`` names the field. So
ShopStream decides itself, for the vocabulary its documents use, with the
registry's meaning of BACKWARD: the new document (the reader) must accept every
value the old one (the writer) accepted. BACKWARD_TRANSITIVE is that against
every earlier version.

Keywords outside the vocabulary raise :class:`UnsupportedSchema` rather than
being ignored: a check that silently skips a rule would pass breaking changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.schemas.validation import resolve_ref

__all__ = [
    "VOCABULARY",
    "Incompatibility",
    "UnsupportedSchema",
    "backward_incompatibilities",
    "transitive_incompatibilities",
]

_ANNOTATIONS = frozenset(
    [
        "$schema",
        "$id",
        "$defs",
        "$comment",
        "title",
        "description",
        "format",
        "contentEncoding",
        "default",
        "examples",
    ]
)
_ASSERTIONS = frozenset(
    [
        "$ref",
        "type",
        "const",
        "enum",
        "oneOf",
        "anyOf",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
    ]
)
#: Every keyword the check understands; documents must stay within it.
VOCABULARY = _ANNOTATIONS | _ASSERTIONS
_ALL_TYPES = frozenset({"null", "boolean", "object", "array", "number", "integer", "string"})


class UnsupportedSchema(ValueError):
    """A document uses a keyword this check does not understand."""


@dataclass(frozen=True, slots=True)
class Incompatibility:
    """One way the new document refuses values the old one accepted."""

    field: str  # e.g. "order_created.items[].unit_price"; "(value)" for the whole value
    problem: str

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"


def backward_incompatibilities(
    new: Mapping[str, Any], old: Mapping[str, Any]
) -> list[Incompatibility]:
    """What values valid under ``old`` does ``new`` refuse? Empty when none."""
    return _Comparison(new, old).compare(new, old, "")


def transitive_incompatibilities(
    new: Mapping[str, Any], previous: Iterable[tuple[str, Mapping[str, Any]]]
) -> list[tuple[str, Incompatibility]]:
    """BACKWARD_TRANSITIVE: ``(version label, problem)`` against every earlier version."""
    return [
        (label, problem)
        for label, old in previous
        for problem in backward_incompatibilities(new, old)
    ]


def _type_const(schema: Mapping[str, Any]) -> Any:
    return schema.get("properties", {}).get("type", {}).get("const")


def _types(schema: Mapping[str, Any]) -> frozenset[str]:
    declared = schema.get("type")
    if declared is None:
        return _ALL_TYPES
    return frozenset([declared] if isinstance(declared, str) else declared)


def _allowed_values(schema: Mapping[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        return list(schema["enum"])
    return None


class _Comparison:
    def __init__(self, new_root: Mapping[str, Any], old_root: Mapping[str, Any]) -> None:
        self.new_root = new_root
        self.old_root = old_root

    def _resolve(self, schema: Any, root: Mapping[str, Any]) -> Mapping[str, Any]:
        if schema is True or schema is None:
            return {}
        if schema is False:
            return {"not": {}}
        try:
            schema = resolve_ref(schema, root)
        except ValueError as exc:
            raise UnsupportedSchema(str(exc)) from None
        resolved: Mapping[str, Any] = schema
        unknown = set(resolved) - _ANNOTATIONS - _ASSERTIONS
        if unknown:
            raise UnsupportedSchema(
                f"keywords the compatibility check does not know: {sorted(unknown)}"
            )
        return resolved

    def compare(self, new_raw: Any, old_raw: Any, path: str) -> list[Incompatibility]:
        new = self._resolve(new_raw, self.new_root)
        old = self._resolve(old_raw, self.old_root)
        if "not" in new and "not" not in old:
            return [Incompatibility(path or "(value)", "refuses every value now")]
        old_branches = old.get("oneOf") or old.get("anyOf")
        if old_branches:
            return [p for b in old_branches for p in self._branch(new, b, path)]
        new_branches = new.get("oneOf") or new.get("anyOf")
        if new_branches:
            return self._into_branches(new_branches, old, path)
        return self._single(new, old, path)

    def _branch(self, new: Mapping[str, Any], old_branch: Any, path: str) -> list[Incompatibility]:
        old = self._resolve(old_branch, self.old_root)
        label = _type_const(old)
        where = f"{path}.{label}".removeprefix(".") if label is not None else path
        new_branches = new.get("oneOf") or new.get("anyOf")
        if not new_branches:
            return self.compare(new, old, where)
        return self._into_branches(new_branches, old, where)

    def _into_branches(
        self, new_branches: Sequence[Any], old: Mapping[str, Any], path: str
    ) -> list[Incompatibility]:
        label = _type_const(old)
        if label is not None:
            for branch in new_branches:
                if _type_const(self._resolve(branch, self.new_root)) == label:
                    return self.compare(branch, old, path)
            return [
                Incompatibility(path or "type", f"events of type {label!r} are no longer accepted")
            ]
        attempts = [self.compare(branch, old, path) for branch in new_branches]
        if any(not problems for problems in attempts):
            return []
        return min(attempts, key=len)

    def _single(
        self, new: Mapping[str, Any], old: Mapping[str, Any], path: str
    ) -> list[Incompatibility]:
        where = path or "(value)"
        problems: list[Incompatibility] = []
        new_values, old_values = _allowed_values(new), _allowed_values(old)
        if new_values is not None:
            if old_values is None:
                problems.append(Incompatibility(where, f"now restricted to {new_values}"))
            else:
                dropped = [v for v in old_values if v not in new_values]
                if dropped:
                    problems.append(Incompatibility(where, f"no longer accepts {dropped}"))
        old_types = (
            _types(old) if old_values is None else frozenset(_type_name(v) for v in old_values)
        )
        new_types = _types(new)
        lost = {t for t in old_types - new_types if not (t == "integer" and "number" in new_types)}
        if lost:
            problems.append(
                Incompatibility(
                    where,
                    f"type {sorted(old_types)} -> {sorted(new_types)}: {sorted(lost)} refused",
                )
            )
        kept = old_types & (new_types | ({"integer"} if "number" in new_types else set()))
        if "string" in kept:
            problems += self._strings(new, old, where)
        if kept & {"integer", "number"}:
            problems += self._bounds(new, old, where, "minimum", "maximum")
        if "array" in kept:
            problems += self._bounds(new, old, where, "minItems", "maxItems")
            if "items" in new:
                problems += self.compare(new["items"], old.get("items", True), f"{path}[]")
        if "object" in kept:
            problems += self._objects(new, old, path)
        return problems

    def _strings(
        self, new: Mapping[str, Any], old: Mapping[str, Any], where: str
    ) -> list[Incompatibility]:
        problems = self._bounds(new, old, where, "minLength", "maxLength")
        if "pattern" in new and new["pattern"] != old.get("pattern"):
            problems.append(
                Incompatibility(where, f"pattern {old.get('pattern')!r} -> {new['pattern']!r}")
            )
        return problems

    @staticmethod
    def _bounds(
        new: Mapping[str, Any], old: Mapping[str, Any], where: str, low: str, high: str
    ) -> list[Incompatibility]:
        problems = []
        if low in new and new[low] > old.get(low, float("-inf")):
            problems.append(Incompatibility(where, f"{low} {old.get(low)} -> {new[low]}"))
        if high in new and new[high] < old.get(high, float("inf")):
            problems.append(Incompatibility(where, f"{high} {old.get(high)} -> {new[high]}"))
        return problems

    def _objects(
        self, new: Mapping[str, Any], old: Mapping[str, Any], path: str
    ) -> list[Incompatibility]:
        def field(name: str) -> str:
            return f"{path}.{name}".removeprefix(".")

        problems: list[Incompatibility] = []
        new_props: Mapping[str, Any] = new.get("properties", {})
        old_props: Mapping[str, Any] = old.get("properties", {})
        new_extra = new.get("additionalProperties", True)
        old_extra = old.get("additionalProperties", True)
        old_required = set(old.get("required", ()))
        for name in sorted(set(new.get("required", ())) - old_required):
            problems.append(Incompatibility(field(name), "is now required"))
        for name, old_schema in old_props.items():
            if name in new_props:
                problems += self.compare(new_props[name], old_schema, field(name))
            elif new_extra is False:
                problems.append(Incompatibility(field(name), "was removed (the model is closed)"))
            else:
                problems += self.compare(new_extra, old_schema, field(name))
        if old_extra is not False:
            for name in sorted(set(new_props) - set(old_props)):
                problems += [
                    Incompatibility(field(name), f"added to an open model: {p.problem}")
                    for p in self.compare(new_props[name], old_extra, field(name))
                ]
            if new_extra is False:
                problems.append(
                    Incompatibility(
                        path or "(value)", "the model is closed now (undeclared fields refused)"
                    )
                )
            elif new_extra is not True:
                problems += self.compare(new_extra, old_extra, f"{path}.*".removeprefix("."))
        return problems


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
