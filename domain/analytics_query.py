"""The parameters of the analytics queries, validated, and the ranges they cover.

DESIGN.md: each query covers ``[until - minutes, until)``; ``minutes`` is a
whole number from 1 to 1440 (default 60); ``until`` is an optional ISO-8601
time (default: now, rounded up to the next whole minute). Bad input raises
:class:`InvalidQuery`, which the web layer answers with a 400 and
``{"error": ...}``.

``until`` must fall on a whole minute. State is kept in minute buckets, so a
range that starts or ends inside a minute cannot be answered exactly; rather
than silently answering a different range, such a request is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from domain.analytics_windows import MINUTE_MS, SESSION_GAP_MS, epoch_minute, epoch_ms, minute_time
from domain.timefmt import InvalidTimestamp, ceil_minute, format_time, parse_time

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


def parse_until(raw: str | None, *, now: datetime) -> int:
    """``until`` as an epoch minute: the given whole minute, or ``now`` rounded up."""
    if raw is None:
        return epoch_minute(ceil_minute(now))
    text = raw.strip()
    repaired = _UNESCAPED_PLUS.match(text)
    if repaired:
        text = f"{repaired.group(1)}+{repaired.group(2)}"
    try:
        moment = parse_time(text, field="until")
    except InvalidTimestamp as exc:
        raise InvalidQuery(str(exc)) from None
    except (OverflowError, ValueError):
        raise InvalidQuery(f"until is out of range: {raw[:40]!r}") from None
    if epoch_ms(moment) % MINUTE_MS:
        raise InvalidQuery(
            f"until must be a whole minute (answers are kept per minute), got {raw[:40]!r}"
        )
    return epoch_minute(moment)


def query_range(minutes: int, until: int) -> QueryRange:
    """``[until - minutes, until)``; refused when it would start before year 1."""
    try:
        minute_time(until - minutes)
    except OverflowError:
        raise InvalidQuery("until minus minutes is before the year 1") from None
    return QueryRange(start=until - minutes, end=until)


def session_range(until: int) -> QueryRange:
    """The minutes in which a session's last event must lie to be active at ``until``."""
    return query_range(SESSION_GAP_MINUTES, until)
