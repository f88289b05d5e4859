"""Output values as plain JSON or, with ``SHOPSTREAM_OUTPUT_FORMAT=confluent-json``, framed.

A framed output carries the schema id of ShopStream's document registered
under its topic's subject (registering it is a no-op when the subject already
has it). The id is resolved once per topic; while the registry does not
answer, the output waits (and with it the input that caused it), it is never
sent unframed or dropped.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from app.kafka.codec import encode_json, frame
from app.kafka.topic_names import ALERTS, DEAD_LETTERS, ORDER_STATUS
from app.schemas.documents import document_text, subject_for
from app.schemas.registry import RegistryUnavailable, SchemaRegistry, shared_registry
from app.settings import load_settings

__all__ = ["OutputEncoder", "encode_output", "frame_output", "resolve_output_ids"]

logger = logging.getLogger(__name__)
_FIRST_RETRY, _LONGEST_RETRY = 0.5, 10.0


class OutputEncoder:
    """Encodes the values of the contract's output topics in the configured format."""

    def __init__(self, registry: SchemaRegistry | None, *, framed: bool) -> None:
        if framed and registry is None:
            raise ValueError("framed outputs need a schema registry")
        self.registry = registry
        self.framed = framed
        self._ids: dict[str, int] = {}

    async def encode(self, topic: str, value: Any) -> bytes:
        return await self.frame(topic, encode_json(value))

    async def frame(self, topic: str, payload: bytes) -> bytes:
        """``payload`` (encoded JSON) as it goes on ``topic``: unchanged, or framed."""
        if not self.framed:
            return payload
        schema_id = self._ids.get(topic)
        if schema_id is None:
            schema_id = self._ids[topic] = await self._resolve(topic)
        return frame(schema_id, payload)

    def resolve_now(self, topics: tuple[str, ...]) -> None:
        """Register (or find) the documents of ``topics`` now, blocking; raises RegistryError.

        Run at start-up, so that a registry that refuses ShopStream's document
        stops the worker with one line instead of holding its outputs back.
        """
        if not self.framed or self.registry is None:
            return
        for topic in topics:
            self._ids[topic] = self.registry.register(subject_for(topic), document_text(topic))

    async def _resolve(self, topic: str) -> int:
        if self.registry is None:  # refused by __init__; keeps the type checker informed
            raise ValueError("framed outputs need a schema registry")
        delay = _FIRST_RETRY
        while True:
            try:
                return await asyncio.to_thread(
                    self.registry.register, subject_for(topic), document_text(topic)
                )
            except RegistryUnavailable as exc:
                logger.warning(
                    "schema registry unavailable, outputs wait (retry in %.1f s): %s", delay, exc
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, _LONGEST_RETRY)


@functools.cache
def _shared_encoder() -> OutputEncoder:
    return OutputEncoder(
        shared_registry(), framed=load_settings().output_format == "confluent-json"
    )


async def encode_output(topic: str, value: Any) -> bytes:
    """``value`` for the output topic ``topic``, in this process's output format."""
    return await _shared_encoder().encode(topic, value)


async def frame_output(topic: str, payload: bytes) -> bytes:
    """Encoded JSON ``payload`` for the output topic ``topic``, in this process's format."""
    return await _shared_encoder().frame(topic, payload)


def resolve_output_ids() -> None:
    """:meth:`OutputEncoder.resolve_now` for this process's encoder and the contract's outputs."""
    _shared_encoder().resolve_now((ORDER_STATUS, ALERTS, DEAD_LETTERS))
