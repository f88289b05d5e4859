"""Dead letters: what could not be processed, kept with all that is needed to re-drive it.

DESIGN.md: nothing is dropped silently; an input is either applied or it is on
``dead-letters`` with its source coordinates, the original bytes (base64) and
the reason. Agents call :func:`send_dead_letter` from inside their stream loop
so the record is produced before the offset of the input is committed.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.kafka.codec import encode_json
from app.monitoring.metrics import record_dead_letter
from app.monitoring.operations import remember_dead_letter
from domain.timefmt import format_time, now_utc

__all__ = ["DeadLetter", "dead_letter_record", "letter_for", "send_dead_letter"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Where a failed input came from and why it failed."""

    source_topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    error_type: str
    error: str
    stage: str
    attempts: int = 1
    first_failed_at: datetime | None = None


def letter_for(
    message: Any, error: Exception | str, *, stage: str, error_type: str = ""
) -> DeadLetter:
    """A dead letter for the Kafka message being processed (a Faust ``Message``)."""
    return DeadLetter(
        source_topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        error_type=error_type or type(error).__name__,
        error=str(error),
        stage=stage,
    )


def dead_letter_record(letter: DeadLetter, *, now: datetime | None = None) -> dict[str, Any]:
    """The JSON object DESIGN.md fixes for the ``dead-letters`` topic."""
    failed_at = now or now_utc()
    return {
        "source_topic": letter.source_topic,
        "partition": letter.partition,
        "offset": letter.offset,
        "key": None if letter.key is None else letter.key.decode("utf-8", "replace"),
        "value_b64": None if letter.value is None else base64.b64encode(letter.value).decode(),
        "error_type": letter.error_type,
        "error": letter.error,
        "stage": letter.stage,
        "attempts": letter.attempts,
        "first_failed_at": format_time(letter.first_failed_at or failed_at),
        "last_failed_at": format_time(failed_at),
    }


async def send_dead_letter(letter: DeadLetter) -> None:
    """Produce the dead letter, keyed by the original key, and log where it came from."""
    from app.kafka.topics import dead_letters_topic

    logger.warning(
        "dead-letter %s[%d]@%d stage=%s %s: %s",
        letter.source_topic,
        letter.partition,
        letter.offset,
        letter.stage,
        letter.error_type,
        letter.error,
    )
    record_dead_letter(letter.stage, letter.error_type)
    remember_dead_letter(
        stage=letter.stage,
        error_type=letter.error_type,
        error=letter.error,
        source_topic=letter.source_topic,
        partition=letter.partition,
        offset=letter.offset,
    )
    await dead_letters_topic.send(key=letter.key, value=encode_json(dead_letter_record(letter)))
