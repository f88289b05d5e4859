"""Event time as DESIGN.md writes it: ISO-8601 UTC with milliseconds and ``Z``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

__all__ = [
    "EVENT_TIME_PATTERN",
    "InvalidTimestamp",
    "format_time",
    "minute_start",
    "parse_event_time",
    "parse_time",
    "to_millis",
    "truncate_to_millis",
]


class InvalidTimestamp(ValueError):
    """A time that is not ISO-8601 with an explicit UTC offset."""


def parse_time(value: object, *, field: str = "occurred_at") -> datetime:
    """Parse an ISO-8601 time with a timezone; naive times are refused as ambiguous."""
    if not isinstance(value, str):
        raise InvalidTimestamp(f"{field} must be an ISO-8601 string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidTimestamp(f"{field} is not ISO-8601: {value!r}") from None
    if parsed.tzinfo is None:
        raise InvalidTimestamp(f"{field} has no timezone (use Z): {value!r}")
    return parsed.astimezone(UTC)


_YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"
#: The wire syntax of an event time, shared word for word with the JSON Schema
#: documents (``schemas/*.json``, ``$defs.time``): an RFC 3339 date-time with a
#: zone (ShopStream itself writes UTC with milliseconds, :func:`format_time`).
EVENT_TIME_PATTERN: Final = (
    f"^{_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
_EVENT_TIME = re.compile(EVENT_TIME_PATTERN)


def parse_event_time(value: object, *, field: str = "occurred_at") -> datetime:
    """Parse the time of an event on the wire, in UTC.

    The syntax is :data:`EVENT_TIME_PATTERN` (what the schemas accept); beyond
    it the date must exist (no 31 November) and the instant must fall within
    the years 1 to 9999 in UTC, the two rules a pattern cannot state.
    """
    try:
        parsed = parse_time(value, field=field)  # its reasons first: not a string, no zone, ...
    except OverflowError:
        raise InvalidTimestamp(f"{field} is out of range in UTC: {value!r:.60}") from None
    except InvalidTimestamp:
        if isinstance(value, str) and _EVENT_TIME.fullmatch(value):
            raise InvalidTimestamp(f"{field} is not a calendar date: {value!r:.60}") from None
        raise
    if not isinstance(value, str) or not _EVENT_TIME.fullmatch(value):
        raise InvalidTimestamp(f"{field} is not an RFC 3339 date-time with a zone: {value!r:.60}")
    return parsed


def format_time(moment: datetime) -> str:
    """Format as ``2026-11-21T10:00:00.000Z`` (milliseconds, UTC)."""
    m = moment.astimezone(UTC)
    # Not strftime("%Y"): glibc writes the year 872 as "872", and RFC 3339 needs four digits.
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond // 1000:03d}Z"
    )


def truncate_to_millis(moment: datetime) -> datetime:
    """Drop sub-millisecond digits, in UTC: the precision :func:`format_time` keeps.

    Values that are stored and read back (pending events, order history) must
    compare equal after a round trip, so they are cut to wire precision on entry.
    """
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    micros = moment.microsecond % 1000
    return moment if micros == 0 else moment.replace(microsecond=moment.microsecond - micros)


def to_millis(moment: datetime) -> int:
    """Milliseconds since the epoch: the unit of Kafka timestamps and window keys."""
    return int(moment.timestamp() * 1000)


def minute_start(moment: datetime) -> datetime:
    """The start of the minute bucket holding ``moment``."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def now_utc() -> datetime:
    return datetime.now(UTC)


def ceil_minute(moment: datetime) -> datetime:
    """Round up to the next whole minute (a whole minute stays as it is)."""
    floor = minute_start(moment)
    return floor if floor == moment else floor + timedelta(minutes=1)
