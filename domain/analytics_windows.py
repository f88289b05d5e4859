"""Event-time minute windows: bucketing, the partition watermark, lateness and expiry.

Every analytics answer of DESIGN.md is a sum over whole minutes of
``occurred_at`` (event time, never arrival time), so state is kept in one
bucket per minute, identified by its *epoch minute* (minutes since
1970-01-01T00:00Z, an int that sorts and subtracts).

Faust's windowed tables are deliberately not used: their expiry bookkeeping
lives in memory and runs on wall-clock time, so windows restored after a
restart never expire (FAUST_NOTES.md). Here expiry is a pure function of the
stored :class:`Watermark`, which survives restarts like any other row.

The watermark of a partition is the latest minute that has an event, kept
per input stream: clicks, and purchases per source partition of ``orders``
(purchases reach analytics through the order pipeline, which may trail the
clicks and interleaves the ``orders`` partitions; see :class:`Watermark`).
Each record is judged against the progress of its own stream. Lateness and
expiry are then:

* an event is **late** when it occurred more than the grace period before its
  stream's watermark (the start of the latest minute seen), or before the
  partition's expiry horizon; late events are dead-lettered, never counted;
* a minute bucket **expires** when it is older than the horizon, the longest
  query range (24 h) plus the grace period behind the partition's event time
  (the later of the two stream watermarks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final

from domain.timefmt import format_time

__all__ = [
    "DEFAULT_GRACE_SECONDS",
    "MAX_AHEAD_OF_CLOCK",
    "MINUTE_MS",
    "RETENTION_MINUTES",
    "SESSION_GAP_MS",
    "Stream",
    "Watermark",
    "WindowPolicy",
    "ahead_of_clock",
    "epoch_minute",
    "epoch_ms",
    "minute_from_label",
    "minute_label",
    "minute_time",
]

MINUTE_MS: Final = 60_000
#: A session closes after this much inactivity (DESIGN.md: 30 minutes).
SESSION_GAP_MS: Final = 30 * MINUTE_MS
#: The longest range a query may ask for (DESIGN.md: minutes <= 1440).
RETENTION_MINUTES: Final = 1440
#: How far behind its stream's watermark an event may occur and still be counted.
DEFAULT_GRACE_SECONDS: Final = 600
#: Events further ahead of the worker's clock are refused: one such event would
#: move the watermark so far that every window expired and all else was late.
MAX_AHEAD_OF_CLOCK: Final = timedelta(hours=24)

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class Stream(StrEnum):
    """The two inputs of analytics; the values are the short codes stored in rows."""

    CLICKS = "c"
    PURCHASES = "p"


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, computed exactly (no float rounding).

    From the parts of the difference, not ``// timedelta``: a few times per
    click, and this way is about four times faster (``microseconds`` is never
    negative, so the floor is right before the epoch too).
    """
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    since = moment - _EPOCH
    return (since.days * 86_400 + since.seconds) * 1000 + since.microseconds // 1000


def epoch_minute(moment: datetime) -> int:
    """The epoch minute holding ``moment``."""
    return epoch_ms(moment) // MINUTE_MS


def minute_time(minute: int) -> datetime:
    """The start of an epoch minute, as an aware UTC datetime."""
    return _EPOCH + timedelta(minutes=minute)


@lru_cache(maxsize=4096)
def minute_label(minute: int) -> str:
    """``2026-11-21T10:00``: fixed width, so labels sort like the minutes they name.

    Cached: a key of most clicks has one, and a partition's clicks share a few minutes.
    """
    moment = minute_time(minute)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}"
    )


@lru_cache(maxsize=4096)
def minute_from_label(label: str) -> int:
    """Inverse of :func:`minute_label` (cached: scans meet the same few labels again and again)."""
    return epoch_minute(datetime.fromisoformat(f"{label}:00+00:00"))


@dataclass(frozen=True, slots=True)
class Watermark:
    """How far event time has progressed on one partition, and how far it was expired.

    ``clicks`` is the latest epoch minute of a click on the partition.
    ``purchases`` holds the latest minute of a purchase *per source partition
    of* ``orders``: purchases are re-keyed by the order pipeline, which works
    through the ``orders`` partitions independently, so on this partition
    they interleave the ``orders`` partitions in no particular event-time
    order; within one source partition their order is the input's.
    ``expired_before`` is the horizon up to which rows have been deleted (rows
    of minutes below it are gone; expiry resumes from there).
    """

    clicks: int | None = None
    purchases: Mapping[int, int] = field(default_factory=dict)
    expired_before: int | None = None

    def of(self, stream: Stream, source: int = -1) -> int | None:
        """The watermark a record of ``stream`` (from ``source``, for purchases) is judged by."""
        return self.clicks if stream is Stream.CLICKS else self.purchases.get(source)

    def advanced(self, stream: Stream, minute: int, source: int = -1) -> Watermark:
        """This watermark after an event of ``stream`` in ``minute`` (never moves back)."""
        current = self.of(stream, source)
        if current is not None and current >= minute:
            return self
        if stream is Stream.CLICKS:
            return replace(self, clicks=minute)
        return replace(self, purchases={**self.purchases, source: minute})

    @property
    def event_time(self) -> int | None:
        """The partition's event time: the latest minute of any of its streams."""
        latest = self.clicks
        for minute in self.purchases.values():  # a loop, not a list: three calls per click
            if latest is None or minute > latest:
                latest = minute
        return latest

    def to_dict(self) -> dict[str, Any]:
        purchases = {str(source): minute for source, minute in sorted(self.purchases.items())}
        return {"c": self.clicks, "p": purchases, "x": self.expired_before}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Watermark:
        if data is None:
            return cls()
        purchases = {int(source): int(minute) for source, minute in (data.get("p") or {}).items()}
        return cls(clicks=data.get("c"), purchases=purchases, expired_before=data.get("x"))


@dataclass(frozen=True, slots=True)
class WindowPolicy:
    """The grace period and retention that decide lateness and expiry."""

    grace_ms: int = DEFAULT_GRACE_SECONDS * 1000
    retention_minutes: int = RETENTION_MINUTES

    def horizon(self, mark: Watermark) -> int | None:
        """The oldest epoch minute still kept; None before the partition has seen anything.

        Longest range plus grace behind the event time, so a query ending at the
        latest minute with any range up to 24 h never reaches an expired bucket.
        """
        now = mark.event_time
        if now is None:
            return None
        return (now * MINUTE_MS - self.retention_minutes * MINUTE_MS - self.grace_ms) // MINUTE_MS

    def on_time(
        self,
        mark: Watermark,
        stream: Stream,
        occurred_ms: int,
        horizon: int | None,
        source: int = -1,
    ) -> bool:
        """Whether an event at ``occurred_ms`` is counted; ``horizon`` is ``mark``'s.

        The apply path has the event's milliseconds and the horizon already
        (this runs once per record); :meth:`lateness` says why when it is not.
        """
        own = mark.of(stream, source)
        if own is not None and occurred_ms < own * MINUTE_MS - self.grace_ms:
            return False
        return horizon is None or occurred_ms >= horizon * MINUTE_MS

    def lateness(
        self, mark: Watermark, stream: Stream, occurred_at: datetime, source: int = -1
    ) -> str | None:
        """Why an event is too late to be counted (:meth:`on_time` decides), or None."""
        occurred_ms = epoch_ms(occurred_at)
        horizon = self.horizon(mark)
        if self.on_time(mark, stream, occurred_ms, horizon, source):
            return None
        own = mark.of(stream, source)
        if own is not None and occurred_ms < own * MINUTE_MS - self.grace_ms:
            return (
                f"late: occurred_at {format_time(occurred_at)} is more than "
                f"{self.grace_ms // 1000}s behind the partition's event time "
                f"{format_time(minute_time(own))} ({_stream_label(stream, source)})"
            )
        if horizon is not None:  # not on time, not behind its stream: before the horizon
            return (
                f"late: occurred_at {format_time(occurred_at)} is before the partition's "
                f"expiry horizon {format_time(minute_time(horizon))}: its window is gone"
            )
        return None


def _stream_label(stream: Stream, source: int) -> str:
    if stream is Stream.CLICKS:
        return "clicks"
    return f"purchases from orders partition {source}"


def ahead_of_clock(occurred_at: datetime, now: datetime) -> str | None:
    """Why an event cannot be believed (it occurred too far in the future), or None."""
    if occurred_at - now <= MAX_AHEAD_OF_CLOCK:
        return None
    return (
        f"occurred_at {format_time(occurred_at)} is more than "
        f"{MAX_AHEAD_OF_CLOCK.total_seconds() / 3600:g} h ahead of the clock ({format_time(now)})"
    )
