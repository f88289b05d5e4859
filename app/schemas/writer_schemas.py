"""Framed input: check a value against the schema its writer named (DESIGN.md "Schemas").

With a registry, a framed value's schema id is looked up once (then cached)
and the value validated against that writer schema before the domain's own
checks. An id the registry does not know, or a writer schema that is not a
JSON Schema, is the record's fault (dead letter, stage ``decode``); a value its
schema refuses too (stage ``validate``). A registry that does not answer is
nobody's fault: :meth:`WriterSchemas.prepare` waits and retries until it
answers, holding the records back, and never drops one. Without a registry,
framed values are decoded and their ids not checked.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Iterable, Iterator

from jsonschema.exceptions import SchemaError

from app.kafka.codec import MAGIC_BYTE, Decoded
from app.schemas.registry import (
    RegistryUnavailable,
    SchemaRegistry,
    UnknownSchemaId,
    shared_registry,
)
from app.schemas.validation import SchemaCheck, SchemaViolation

__all__ = [
    "SchemaViolation",
    "UnknownSchemaId",
    "WriterSchemas",
    "framed_schema_ids",
    "shared_writer_schemas",
]

logger = logging.getLogger(__name__)

#: An unknown id is asked again after this long (a registry may learn it meanwhile).
UNKNOWN_ID_TTL = 30.0
_FIRST_RETRY, _LONGEST_RETRY = 0.5, 10.0


class WriterSchemas:
    """Validators of writer schemas by id, fetched from the registry once each."""

    def __init__(self, registry: SchemaRegistry | None) -> None:
        self.registry = registry
        self._validators: dict[int, SchemaCheck] = {}
        self._unknown: dict[int, tuple[float, str]] = {}  # id -> (when, reason)

    def _is_resolved(self, schema_id: int) -> bool:
        if schema_id in self._validators:
            return True
        unknown = self._unknown.get(schema_id)
        return unknown is not None and time.monotonic() - unknown[0] < UNKNOWN_ID_TTL

    async def prepare(self, schema_ids: Iterable[int | None]) -> None:
        """Make sure every id is resolved (known or known to be unknown); retry while down."""
        if self.registry is None:
            return
        for schema_id in {i for i in schema_ids if i is not None}:
            if not self._is_resolved(schema_id):
                await self._fetch(self.registry, schema_id)

    async def _fetch(self, registry: SchemaRegistry, schema_id: int) -> None:
        delay = _FIRST_RETRY
        while True:
            try:
                document = await asyncio.to_thread(registry.writer_schema, schema_id)
            except UnknownSchemaId as exc:
                self._unknown[schema_id] = (time.monotonic(), str(exc))
                return
            except RegistryUnavailable as exc:
                logger.warning(
                    "schema registry unavailable, records wait (retry in %.1f s): %s", delay, exc
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, _LONGEST_RETRY)
                continue
            try:
                validator = SchemaCheck(document)
            except SchemaError as exc:
                reason = f"schema id {schema_id} is not a valid JSON Schema: {exc.message:.120}"
                self._unknown[schema_id] = (time.monotonic(), reason)
                return
            self._validators[schema_id] = validator
            self._unknown.pop(schema_id, None)
            return

    def check(self, decoded: Decoded) -> None:
        """Raise :class:`UnknownSchemaId` or :class:`SchemaViolation` for a bad framed value.

        Plain values, and any value without a registry, pass. Call
        :meth:`prepare` with the value's id first (the check itself never waits).
        """
        if decoded.schema_id is None or self.registry is None:
            return
        validator = self._validators.get(decoded.schema_id)
        if validator is None:
            unknown = self._unknown.get(decoded.schema_id)
            reason = unknown[1] if unknown else f"schema id {decoded.schema_id} was not fetched"
            raise UnknownSchemaId(reason)
        violation = validator.violation(decoded.value)
        if violation is not None:
            raise SchemaViolation(f"schema id {decoded.schema_id}: {violation}")


@functools.cache
def shared_writer_schemas() -> WriterSchemas:
    """The writer schemas of this process's registry (one cache for every agent)."""
    return WriterSchemas(shared_registry())


def framed_schema_ids(raw_values: Iterable[bytes | None]) -> Iterator[int]:
    """The schema ids named by the framed values among ``raw_values`` (nothing is decoded)."""
    for raw in raw_values:
        if raw is not None and len(raw) >= 5 and raw[0] == MAGIC_BYTE:
            yield int.from_bytes(raw[1:5], "big")
