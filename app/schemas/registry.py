"""ShopStream's view of a Confluent-compatible Schema Registry (confluent-kafka's client).

Three kinds of failure, because the callers must treat them differently:
:class:`RegistryUnavailable` (network, timeout, 5xx: retry, never drop a record),
:class:`UnknownSchemaId` (the registry answers that it has no such schema: the
record is poison) and :class:`RegistryRefused` (any other answer, e.g. an
incompatible version: a one-line error for the operator).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from app.kafka.topic_names import INPUT_TOPICS
from app.schemas.documents import CONTRACT_TOPICS, document_text, subject_for
from app.settings import load_settings

__all__ = [
    "COMPATIBILITY",
    "Registered",
    "RegistryError",
    "RegistryRefused",
    "RegistryUnavailable",
    "SchemaRegistry",
    "UnknownSchemaId",
    "input_schema_ids",
    "shared_registry",
]

#: DESIGN.md: every ShopStream subject is checked against all its earlier versions.
COMPATIBILITY = "BACKWARD_TRANSITIVE"

_NOT_FOUND = 404


class RegistryError(Exception):
    """Root of the registry failures; the message is one line."""


class RegistryUnavailable(RegistryError):
    """The registry did not answer (or answered 5xx): try again later."""


class UnknownSchemaId(RegistryError):
    """A schema id the registry does not know."""


class RegistryRefused(RegistryError):
    """The registry answered with a refusal (e.g. 409: an incompatible version)."""


@dataclass(frozen=True, slots=True)
class Registered:
    """What registration did for one subject."""

    subject: str
    schema_id: int
    created: bool  # the subject did not exist before


class SchemaRegistry:
    """A blocking client (call it from a thread in async code); thread-safe like its client."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        # Imported here, not with the module: confluent-kafka's registry client brings httpx and
        # authlib, about 0.35 s of every worker's and command's start, and most processes never
        # make a client (no registry configured, or no framed record).
        from confluent_kafka.schema_registry import SchemaRegistryClient

        self.url = url.rstrip("/")
        # No retries inside the client: callers decide (the worker retries forever, commands fail).
        self._client = SchemaRegistryClient({"url": self.url, "timeout": timeout, "max.retries": 0})

    def _call(self, what: str, function: Any, *args: Any) -> Any:
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        try:
            return function(*args)
        except SchemaRegistryError as exc:
            status = exc.http_status_code
            message = f"{what}: HTTP {status}: {exc.error_message}".replace("\n", " ")
            if status == _NOT_FOUND:
                raise UnknownSchemaId(message) from None
            if status < 0 or status >= 500:
                raise RegistryUnavailable(message) from None
            raise RegistryRefused(message) from None
        except (OSError, ValueError) as exc:
            raise RegistryUnavailable(f"{what}: {exc}") from None
        except Exception as exc:  # the client's HTTP library raises its own transport errors
            if type(exc).__module__.split(".")[0].startswith("httpx"):
                raise RegistryUnavailable(f"{what}: {type(exc).__name__}: {exc}") from None
            raise

    def subjects(self) -> list[str]:
        return list(self._call(f"listing subjects at {self.url}", self._client.get_subjects))

    def versions(self, subject: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(version, document)`` of every JSON Schema version of ``subject``, oldest first."""
        numbers = self._call(f"versions of {subject}", self._client.get_versions, subject)
        for number in sorted(numbers):
            registered = self._call(
                f"{subject} v{number}", self._client.get_version, subject, number
            )
            if registered.schema.schema_type == "JSON":
                yield str(number), json.loads(registered.schema.schema_str)

    def has_subject(self, subject: str) -> bool:
        try:
            self._call(f"versions of {subject}", self._client.get_versions, subject)
        except UnknownSchemaId:
            return False
        return True

    def register(self, subject: str, text: str) -> int:
        """Register ``text`` (a JSON Schema) under ``subject``; the same text gives the same id."""
        from confluent_kafka.schema_registry import Schema

        schema = Schema(text, "JSON")
        return int(
            self._call(f"registering {subject}", self._client.register_schema, subject, schema)
        )

    def set_compatibility(self, subject: str, level: str = COMPATIBILITY) -> None:
        self._call(f"compatibility of {subject}", self._client.set_compatibility, subject, level)

    def compatibility(self, subject: str) -> str | None:
        try:
            level = self._call(
                f"compatibility of {subject}", self._client.get_compatibility, subject
            )
        except UnknownSchemaId:
            return None
        return str(level)

    def writer_schema(self, schema_id: int) -> dict[str, Any]:
        """The schema a framed value names (the client caches it by id)."""
        schema = self._call(f"schema id {schema_id}", self._client.get_schema, schema_id)
        if schema.schema_type not in (None, "JSON"):
            raise UnknownSchemaId(f"schema id {schema_id} is {schema.schema_type}, not JSON Schema")
        document: dict[str, Any] = json.loads(schema.schema_str)
        return document

    def register_contract(self, *, only_missing: bool) -> list[Registered]:
        """Register ShopStream's documents under ``<topic>-value``, compatibility BACKWARD_TRANSITIVE.

        ``only_missing`` (the worker's start-up) leaves existing subjects alone;
        otherwise (``shopstream schemas register``) each document is registered,
        which is a no-op for a document the subject already has.
        """
        done = []
        for topic in CONTRACT_TOPICS:
            subject = subject_for(topic)
            exists = self.has_subject(subject)
            if exists and only_missing:
                continue
            schema_id = self.register(subject, document_text(topic))
            self.set_compatibility(subject)  # Apicurio: only once the subject exists
            done.append(Registered(subject, schema_id, created=not exists))
        return done


@functools.cache
def shared_registry() -> SchemaRegistry | None:
    """The registry of this process's settings (one client, so one cache), or None."""
    url = load_settings().schema_registry_url
    return None if url is None else SchemaRegistry(url)


def input_schema_ids(url: str) -> dict[str, int]:
    """Input topic -> id of ShopStream's document under its subject (registered if missing).

    What a producer with an auto-registering serializer does; the load generator
    uses these ids for the records it frames.
    """
    registry = SchemaRegistry(url)
    return {
        topic: registry.register(subject_for(topic), document_text(topic)) for topic in INPUT_TOPICS
    }
