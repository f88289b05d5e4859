"""The parameters of the analytics queries, validated, and the ranges they cover.

DESIGN.md: each query covers ``[until - minutes, until)``; ``minutes`` is a
whole number from 1 to 1440 (default 60); ``until`` is an optional ISO-8601
time (default: now, rounded up to the next whole minute). Bad input raises
:class:`InvalidQuery`, which the web layer answers with a 400 and
``{"error": ...}``.

``until`` is an RFC 3339 date-time (what the OpenAPI document's ``format:
date-time`` promises): any offset, any number of fractional digits, any
four-digit year. State is kept in minute buckets, so a time inside a minute is
rounded up to the next whole minute, as the default ``now`` is; a range is cut
to the years 1 to 9999 (what an answer can write). Either way the answer's
``from`` and ``until`` say exactly which range was counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from domain.analytics_windows import MINUTE_MS, SESSION_GAP_MS, epoch_minute, minute_time
from domain.timefmt import ceil_minute, format_time

__all__ = [
    "DEFAULT_MINUTES",
    "DEFAULT_TOP_N",
    "MAX_MINUTES",
    "MAX_TOP_N",
    "SESSION_GAP_MINUTES",
    "InvalidQuery",
    "QueryRange",
    "parse_minutes",
    "parse_top_n",
    "parse_until",
    "query_range",
    "session_range",
]

DEFAULT_MINUTES: Final = 60
MAX_MINUTES: Final = 1440
DEFAULT_TOP_N: Final = 10
#: The longest top list one request may ask for; keeps answers and merges small.
MAX_TOP_N: Final = 1000
#: A session is active at ``until`` when its last click lies in the minutes before it.
SESSION_GAP_MINUTES: Final = SESSION_GAP_MS // MINUTE_MS

_WHOLE_NUMBER: Final = re.compile(r"[0-9]{1,9}")
#: ``+00:00`` arrives as `` 00:00`` when a client does not escape ``+`` in a query string.
_UNESCAPED_PLUS: Final = re.compile(r"^(.*T[0-9:.]+) ([0-9]{2}(:?[0-9]{2})?)$")
#: RFC 3339 ``date-time`` (seconds may be left out, as before); ``[0-9]``, not ``\d``,
#: which would take any Unicode digit.
_RFC3339: Final = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?)?"
    r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<off_h>[0-9]{2}):(?P<off_m>[0-9]{2}))?"
)
_EPOCH: Final = datetime(1970, 1, 1)
#: The first and last minute an answer can write (years 1 to 9999).
FIRST_MINUTE: Final = epoch_minute(datetime(1, 1, 1, tzinfo=UTC))
LAST_MINUTE: Final = epoch_minute(datetime(9999, 12, 31, 23, 59, tzinfo=UTC))


class InvalidQuery(ValueError):
    """A query parameter that cannot be answered; the message says which and why."""


@dataclass(frozen=True, slots=True)
class QueryRange:
    """``[start, end)`` in epoch minutes."""

    start: int
    end: int

    @property
    def minutes(self) -> int:
        return self.end - self.start

    @property
    def from_time(self) -> datetime:
        return minute_time(self.start)

    @property
    def until_time(self) -> datetime:
        return minute_time(self.end)

    def contains(self, minute: int) -> bool:
        return self.start <= minute < self.end

    def bounds(self) -> dict[str, str]:
        """``from`` and ``until`` as the answers show them."""
        return {"from": format_time(self.from_time), "until": format_time(self.until_time)}


def _whole_number(raw: str | None, *, name: str, low: int, high: int, default: int) -> int:
    if raw is None:
        return default
    if not _WHOLE_NUMBER.fullmatch(raw):
        raise InvalidQuery(f"{name} must be a whole number from {low} to {high}, got {raw[:32]!r}")
    value = int(raw)
    if not low <= value <= high:
        raise InvalidQuery(f"{name} must be a whole number from {low} to {high}, got {value}")
    return value


def parse_minutes(raw: str | None) -> int:
    """``minutes``: a whole number from 1 to 1440, default 60."""
    return _whole_number(raw, name="minutes", low=1, high=MAX_MINUTES, default=DEFAULT_MINUTES)


def parse_top_n(raw: str | None) -> int:
    """``n``: a whole number from 1 to :data:`MAX_TOP_N`, default 10."""
    return _whole_number(raw, name="n", low=1, high=MAX_TOP_N, default=DEFAULT_TOP_N)


def _epoch_minute_ceil(text: str) -> int:
    """The whole epoch minute at or after an RFC 3339 time; raises InvalidQuery.

    Computed from the parts rather than with ``datetime.astimezone``, which
    cannot hold ``0001-01-01T00:00:00+23:52`` in UTC (the year 0).
    """
    parts = _RFC3339.fullmatch(text)
    if parts is None:
        raise InvalidQuery(f"until is not ISO-8601 (RFC 3339): {text[:40]!r}")
    if parts["utc"] is None and parts["sign"] is None:
        raise InvalidQuery(f"until has no timezone (use Z): {text[:40]!r}")
    second = int(parts["second"] or 0)
    year = int(parts["date"][:4])
    # The year 0 (RFC 3339 allows it, datetime does not) is read 400 years later, one
    # Gregorian cycle of exactly 146,097 days, and moved back.
    cycles = 1 if year == 0 else 0
    try:
        wall = datetime.fromisoformat(
            f"{year + 400 * cycles:04d}{parts['date'][4:]}"
            f"T{parts['hour']}:{parts['minute']}:{min(second, 59):02d}"
        )
        offset = timedelta(0)
        if parts["sign"] is not None:
            offset = timedelta(hours=int(parts["off_h"]), minutes=int(parts["off_m"]))
            if int(parts["off_h"]) > 23 or int(parts["off_m"]) > 59:
                raise ValueError(text)
        if second > 60:
            raise ValueError(text)
    except ValueError:
        raise InvalidQuery(f"until is not ISO-8601 (RFC 3339): {text[:40]!r}") from None
    if parts["sign"] == "-":
        offset = -offset
    since_epoch = (
        wall
        - _EPOCH
        - timedelta(days=146_097 * cycles)
        - offset
        + timedelta(seconds=second - min(second, 59))
    )
    seconds = since_epoch.days * 86_400 + since_epoch.seconds
    inside_minute = seconds % 60 or int(parts["fraction"] or 0) > 0
    return seconds // 60 + (1 if inside_minute else 0)


def parse_until(raw: str | None, *, now: datetime) -> int:
    """``until`` as an epoch minute: the given time or ``now``, rounded up to a whole minute."""
    if raw is None:
        return epoch_minute(ceil_minute(now))
    text = raw.strip()
    repaired = _UNESCAPED_PLUS.match(text)
    if repaired:
        text = f"{repaired.group(1)}+{repaired.group(2)}"
    return _epoch_minute_ceil(text)


def query_range(minutes: int, until: int) -> QueryRange:
    """``[until - minutes, until)``, cut to the minutes of the years 1 to 9999."""

    def within(minute: int) -> int:
        return max(FIRST_MINUTE, min(minute, LAST_MINUTE))

    return QueryRange(start=within(until - minutes), end=within(until))


def session_range(until: int) -> QueryRange:
    """The minutes in which a session's last event must lie to be active at ``until``."""
    return query_range(SESSION_GAP_MINUTES, until)
