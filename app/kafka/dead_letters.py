"""Dead letters: what could not be processed, kept with all that is needed to re-drive it.

DESIGN.md: nothing is dropped silently; an input is either applied or it is on
``dead-letters`` with its source coordinates, the original bytes (base64) and
the reason. Agents call :func:`send_dead_letter` from inside their stream loop;
it returns once the broker has the letter, so the input's offset is committed
only after its letter is safe. A letter that cannot be sent is not the
record's fault: the exception propagates and the worker stops without
committing (:mod:`app.kafka.fatal`).

Every letter fits the topic. A value up to the broker's limit (1 MiB) is too
large to carry whole once base64 adds a third, so a letter that would weigh
more than :data:`LETTER_MAX_BYTES` carries the value's first
:data:`VALUE_PREFIX_BYTES` bytes in ``value_b64``, with ``value_truncated``
set; ``value_size`` and ``value_sha256`` (in every letter) identify the whole
value, and ``shopstream dlq show|requeue`` fetch it from ``source_topic`` at
``partition``/``offset``. A key longer than :data:`KEY_MAX_BYTES` is cut the
same way (``key_truncated``), in the letter and as the letter's Kafka key.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from app.kafka.codec import encode_json
from app.kafka.topic_names import DEAD_LETTERS
from app.monitoring.metrics import record_dead_letter
from app.monitoring.operations import remember_dead_letter
from domain.timefmt import format_time, now_utc

__all__ = [
    "ERROR_MAX_CHARS",
    "KEY_MAX_BYTES",
    "LETTER_MAX_BYTES",
    "VALUE_PREFIX_BYTES",
    "DeadLetter",
    "dead_letter_record",
    "encode_letter",
    "letter_for",
    "send_dead_letter",
    "send_dead_letters",
]

logger = logging.getLogger(__name__)

#: The most a letter (key and value) weighs: below Faust's producer limit
#: (``producer_max_request_size``, 1,000,000 bytes per request) and the broker's
#: ``message.max.bytes`` (1,048,588), with room for the record's own framing.
LETTER_MAX_BYTES: Final = 900_000
#: How much of a value too large to carry whole a letter keeps (raw bytes, before base64).
VALUE_PREFIX_BYTES: Final = 64 * 1024
#: Keys up to this many bytes are carried whole; longer ones as a prefix.
KEY_MAX_BYTES: Final = 4 * 1024
#: Reasons stay readable (and letters small) whatever the exception said.
ERROR_MAX_CHARS: Final = 2000


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


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _bounded(error: str) -> str:
    if len(error) <= ERROR_MAX_CHARS:
        return error
    return f"{error[:ERROR_MAX_CHARS]}... ({len(error) - ERROR_MAX_CHARS} more characters)"


def dead_letter_record(letter: DeadLetter, *, now: datetime | None = None) -> dict[str, Any]:
    """The JSON object DESIGN.md fixes for the ``dead-letters`` topic, with the value whole.

    :func:`encode_letter` decides whether the value must be cut to fit.
    """
    failed_at = now or now_utc()
    key, value = letter.key, letter.value
    return {
        "source_topic": letter.source_topic,
        "partition": letter.partition,
        "offset": letter.offset,
        "key": None if key is None else key[:KEY_MAX_BYTES].decode("utf-8", "replace"),
        "key_truncated": key is not None and len(key) > KEY_MAX_BYTES,
        "value_b64": None if value is None else _b64(value),
        "value_size": None if value is None else len(value),
        "value_sha256": None if value is None else hashlib.sha256(value).hexdigest(),
        "value_truncated": False,
        "error_type": letter.error_type,
        "error": _bounded(letter.error),
        "stage": letter.stage,
        "attempts": letter.attempts,
        "first_failed_at": format_time(letter.first_failed_at or failed_at),
        "last_failed_at": format_time(failed_at),
    }


def encode_letter(letter: DeadLetter, *, now: datetime | None = None) -> tuple[bytes | None, bytes]:
    """The letter's Kafka key and value, within :data:`LETTER_MAX_BYTES` together."""
    key = None if letter.key is None else letter.key[:KEY_MAX_BYTES]
    record = dead_letter_record(letter, now=now)
    encoded = encode_json(record)
    if len(encoded) + len(key or b"") > LETTER_MAX_BYTES and letter.value is not None:
        record["value_b64"] = _b64(letter.value[:VALUE_PREFIX_BYTES])
        record["value_truncated"] = True
        encoded = encode_json(record)
    return key, encoded


async def send_dead_letters(letters: Iterable[DeadLetter]) -> None:
    """Produce the letters, keyed by the original keys, and wait until the broker has them all.

    A letter the broker refuses raises here, and is the infrastructure's
    fault: the caller lets it propagate, and the worker stops without
    committing (:mod:`app.kafka.fatal`).
    """
    from app.kafka.topics import dead_letters_topic
    from app.schemas.output import frame_output

    pending = []
    for letter in letters:
        logger.warning(
            "dead-letter %s[%d]@%d stage=%s %s: %s",
            letter.source_topic,
            letter.partition,
            letter.offset,
            letter.stage,
            letter.error_type,
            _bounded(letter.error)[:300],
        )
        record_dead_letter(letter.stage, letter.error_type)
        remember_dead_letter(
            stage=letter.stage,
            error_type=letter.error_type,
            error=_bounded(letter.error),
            source_topic=letter.source_topic,
            partition=letter.partition,
            offset=letter.offset,
        )
        key, value = encode_letter(letter)
        value = await frame_output(DEAD_LETTERS, value)
        pending.append(await dead_letters_topic.send(key=key, value=value))
    for delivery in pending:
        await delivery


async def send_dead_letter(letter: DeadLetter) -> None:
    """:func:`send_dead_letters` for one letter."""
    await send_dead_letters((letter,))
