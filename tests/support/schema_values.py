"""Hypothesis strategies for the values a JSON Schema document accepts, and its field projection.

hypothesis-jsonschema would do the first part, but its 0.23 release uses
Hypothesis internals that Hypothesis 6.170 no longer has. ShopStream's
documents use a small vocabulary, so a strategy for exactly that vocabulary is
short; a keyword outside it fails loudly instead of being ignored.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from app.schemas.compatibility import VOCABULARY
from app.schemas.documents import document_for
from app.schemas.validation import resolve_ref

__all__ = ["SUPPORTED_KEYWORDS", "declared_only", "document_values", "values_of"]

_SHORT = 12  # longest string drawn routinely (beside the longest allowed)

#: Keywords the strategy understands: the compatibility check's, but ``anyOf`` and
#: annotations ShopStream's documents do not use.
SUPPORTED_KEYWORDS = VOCABULARY - {"anyOf", "$comment", "default", "examples"}


def _strings(schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    pattern = schema.get("pattern")
    if pattern is not None and pattern.startswith("^") and pattern.endswith("$"):
        anchored = st.from_regex(pattern[1:-1], fullmatch=True)
        return anchored.filter(lambda s: low <= len(s) <= (high or len(s)))
    # Short strings keep generation fast; the longest allowed one is drawn now and then.
    strings = st.text(min_size=low, max_size=min(high or _SHORT, _SHORT))
    if high is not None and high > _SHORT:
        strings |= st.text(min_size=high, max_size=high, alphabet="ab x")
    if pattern is None:
        return strings
    compiled = re.compile(pattern)
    return strings.filter(lambda s: bool(compiled.search(s)))


def _of_type(
    name: str, schema: Mapping[str, Any], root: Mapping[str, Any]
) -> st.SearchStrategy[Any]:
    if name == "null":
        return st.none()
    if name == "string":
        return _strings(schema)
    if name == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if name == "array":
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", low + 2), low + 2)
        return st.lists(values_of(schema["items"], root), min_size=low, max_size=high)
    if name == "object":
        return _objects(schema, root)
    raise ValueError(f"type {name!r} is outside the supported vocabulary")


def _objects(schema: Mapping[str, Any], root: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    required = set(schema.get("required", ()))
    properties = {name: values_of(sub, root) for name, sub in schema.get("properties", {}).items()}
    return st.fixed_dictionaries(
        {name: strategy for name, strategy in properties.items() if name in required},
        optional={name: strategy for name, strategy in properties.items() if name not in required},
    )


def values_of(
    schema: Mapping[str, Any], root: Mapping[str, Any] | None = None
) -> st.SearchStrategy[Any]:
    """Values that ``schema`` accepts (``root`` resolves ``$ref``; defaults to ``schema``)."""
    root = schema if root is None else root
    unknown = set(schema) - SUPPORTED_KEYWORDS
    if unknown:
        raise ValueError(f"keywords outside the supported vocabulary: {sorted(unknown)}")
    schema = resolve_ref(schema, root)
    if "oneOf" in schema:
        return st.one_of([values_of(branch, root) for branch in schema["oneOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    types = schema.get("type")
    names = [types] if isinstance(types, str) else list(types or ())
    if not names:
        raise ValueError(f"a schema without type, const or enum: {schema}")
    return st.one_of([_of_type(name, schema, root) for name in names])


@functools.cache
def document_values(topic: str) -> st.SearchStrategy[Any]:
    """Values the repository's document of ``topic`` accepts: :func:`values_of`, built once.

    A property test draws from it in every example; building (and having
    Hypothesis validate) the strategy tree anew each time cost most of the run.
    """
    return values_of(document_for(topic))


def declared_only(
    schema: Mapping[str, Any], value: Any, root: Mapping[str, Any] | None = None
) -> Any:
    """``value`` without the object fields ``schema`` does not declare (recursively).

    For a ``oneOf`` the branch is the one whose ``type`` const is the value's
    ``type``. This is what the worker looks at: it ignores undeclared fields.
    """
    root = schema if root is None else root
    schema = resolve_ref(schema, root)
    if "oneOf" in schema and isinstance(value, Mapping):
        for branch in schema["oneOf"]:
            branch = resolve_ref(branch, root)
            if branch.get("properties", {}).get("type", {}).get("const") == value.get("type"):
                return declared_only(branch, value, root)
        return value
    if isinstance(value, Mapping) and "properties" in schema:
        properties = schema["properties"]
        return {
            k: declared_only(properties[k], v, root) for k, v in value.items() if k in properties
        }
    if isinstance(value, list) and "items" in schema:
        return [declared_only(schema["items"], v, root) for v in value]
    return value
