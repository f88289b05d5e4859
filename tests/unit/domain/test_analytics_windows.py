"""Minute buckets, the partition watermark, lateness and the expiry horizon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.analytics_windows import (
    Stream,
    Watermark,
    WindowPolicy,
    ahead_of_clock,
    epoch_minute,
    epoch_ms,
    minute_from_label,
    minute_label,
    minute_time,
)

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def test_minutes_and_labels() -> None:
    minute = epoch_minute(T0 + timedelta(seconds=59, milliseconds=999))
    assert minute_time(minute) == T0
    assert minute_label(minute) == "2026-11-21T10:00"
    assert minute_from_label("2026-11-21T10:00") == minute
    assert epoch_ms(datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC)) == 1


@given(st.integers(-(10**6), 4 * 10**6), st.integers(-(10**6), 4 * 10**6))
def test_labels_sort_like_minutes(a: int, b: int) -> None:
    assert (minute_label(a) < minute_label(b)) == (a < b)
    assert minute_from_label(minute_label(a)) == a


def test_the_watermark_only_moves_forward_per_stream() -> None:
    mark = Watermark().advanced(Stream.CLICKS, 10).advanced(Stream.CLICKS, 5)
    assert mark.clicks == 10 and mark.purchases == {} and mark.event_time == 10
    mark = mark.advanced(Stream.PURCHASES, 3, source=1).advanced(Stream.PURCHASES, 12, source=2)
    assert mark.of(Stream.PURCHASES, 1) == 3 and mark.of(Stream.PURCHASES, 2) == 12
    assert mark.of(Stream.PURCHASES, 0) is None and mark.event_time == 12
    assert Watermark.from_dict(mark.to_dict()) == mark
    assert Watermark.from_dict(None) == Watermark()


def test_lateness_is_judged_against_the_event_s_own_stream() -> None:
    policy = WindowPolicy(grace_ms=600_000)
    mark = Watermark(clicks=epoch_minute(T0 + timedelta(hours=2)), purchases={0: epoch_minute(T0)})
    assert policy.lateness(mark, Stream.PURCHASES, T0 - timedelta(minutes=10), 0) is None
    late = policy.lateness(mark, Stream.PURCHASES, T0 - timedelta(minutes=10, milliseconds=1), 0)
    assert late == (
        "late: occurred_at 2026-11-21T09:49:59.999Z is more than 600s behind the "
        "partition's event time 2026-11-21T10:00:00.000Z (purchases from orders partition 0)"
    )
    # another orders partition has its own progress
    assert policy.lateness(mark, Stream.PURCHASES, T0 - timedelta(minutes=30), 1) is None
    assert policy.lateness(Watermark(), Stream.CLICKS, T0) is None


def test_the_horizon_is_a_day_plus_grace_behind_the_partition_s_event_time() -> None:
    policy = WindowPolicy(grace_ms=600_000)
    mark = Watermark(clicks=epoch_minute(T0 + timedelta(days=1, minutes=10)))
    assert policy.horizon(mark) == epoch_minute(T0)
    assert policy.horizon(Watermark()) is None
    odd = WindowPolicy(grace_ms=30_000)  # a grace that is not whole minutes rounds the horizon down
    assert odd.horizon(Watermark(clicks=epoch_minute(T0))) == epoch_minute(T0) - 1441


def test_an_event_more_than_a_day_ahead_of_the_clock_is_not_believed() -> None:
    assert ahead_of_clock(T0 + timedelta(hours=24), now=T0) is None
    reason = ahead_of_clock(T0 + timedelta(hours=24, milliseconds=1), now=T0)
    assert reason is not None and "24 h ahead of the clock" in reason
