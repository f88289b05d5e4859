"""Query parameters of the analytics API: validated, with DESIGN.md's defaults."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.analytics_query import (
    InvalidQuery,
    parse_minutes,
    parse_top_n,
    parse_until,
    query_range,
    session_range,
)
from domain.analytics_windows import epoch_minute, minute_time

NOW = datetime(2026, 11, 21, 10, 7, 30, 500000, tzinfo=UTC)


def test_defaults() -> None:
    assert parse_minutes(None) == 60
    assert parse_top_n(None) == 10
    # now, rounded up to the next whole minute
    assert minute_time(parse_until(None, now=NOW)) == datetime(2026, 11, 21, 10, 8, tzinfo=UTC)
    whole = datetime(2026, 11, 21, 10, 8, tzinfo=UTC)
    assert minute_time(parse_until(None, now=whole)) == whole


@pytest.mark.parametrize("raw, expected", [("1", 1), ("60", 60), ("1440", 1440), ("0090", 90)])
def test_minutes_accepts_whole_numbers_from_1_to_1440(raw: str, expected: int) -> None:
    assert parse_minutes(raw) == expected


@pytest.mark.parametrize(
    "raw", ["0", "1441", "-5", "1.5", "60.0", "abc", "", " 60", "1e3", "9" * 40, "+5"]
)
def test_minutes_refuses_everything_else(raw: str) -> None:
    with pytest.raises(InvalidQuery, match="minutes must be a whole number from 1 to 1440"):
        parse_minutes(raw)


@pytest.mark.parametrize("raw", ["0", "-1", "1001", "ten", "2.0"])
def test_n_must_be_a_whole_number_from_1_to_1000(raw: str) -> None:
    with pytest.raises(InvalidQuery, match=r"^n must be"):
        parse_top_n(raw)
    assert parse_top_n("1000") == 1000


@pytest.mark.parametrize(
    "raw",
    [
        "2026-11-21T10:00:00.000Z",
        "2026-11-21T10:00:00Z",
        "2026-11-21T11:00:00+01:00",
        "2026-11-21T11:00:00 01:00",  # '+' sent unescaped in a query string
        "2026-11-21T10:00Z",
    ],
)
def test_until_is_iso_8601_with_a_timezone(raw: str) -> None:
    assert minute_time(parse_until(raw, now=NOW)) == datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw, message",
    [
        ("yesterday", "not ISO-8601"),
        ("2026-11-21T10:00:00", "no timezone"),
        ("2026-13-01T00:00:00Z", "not ISO-8601"),
        ("2026-02-29T00:00:00Z", "not ISO-8601"),
        ("2026-11-21T10:00:00+24:00", "not ISO-8601"),
        ("2026-11-21T10:00:61Z", "not ISO-8601"),
        ("2026-11-21", "not ISO-8601"),
        ("2026-11-21 10:00:00Z", "not ISO-8601"),
        ("20261121T100000Z", "not ISO-8601"),
        ("\uff12\uff10\uff12\uff16-11-21T10:00:00Z", "not ISO-8601"),  # full-width digits
    ],
)
def test_until_refuses_bad_times(raw: str, message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        parse_until(raw, now=NOW)


def test_the_range_ends_at_until_and_excludes_it() -> None:
    until = epoch_minute(datetime(2026, 11, 21, 11, 0, tzinfo=UTC))
    span = query_range(60, until)
    assert span.bounds() == {
        "from": "2026-11-21T10:00:00.000Z",
        "until": "2026-11-21T11:00:00.000Z",
    }
    assert span.contains(until - 60) and span.contains(until - 1) and not span.contains(until)
    assert session_range(until).minutes == 30


@pytest.mark.parametrize(
    "raw, expected",
    [
        # inside a minute: rounded up to the next whole minute, like the default now
        ("2026-11-21T10:00:30Z", datetime(2026, 11, 21, 10, 1, tzinfo=UTC)),
        ("2026-11-21T10:00:00.001Z", datetime(2026, 11, 21, 10, 1, tzinfo=UTC)),
        ("2026-11-21T10:00:00.000000000Z", datetime(2026, 11, 21, 10, 0, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2017, 1, 1, 0, 0, tzinfo=UTC)),  # a leap second
        # any offset RFC 3339 allows, any four-digit year
        ("2026-11-21T10:00:00+23:52", datetime(2026, 11, 20, 10, 8, tzinfo=UTC)),
        ("0872-07-26T00:20:35-17:58", datetime(872, 7, 26, 18, 19, tzinfo=UTC)),
        ("0245-07-11t10:44:31.168z", datetime(245, 7, 11, 10, 45, tzinfo=UTC)),
    ],
)
def test_until_takes_any_rfc_3339_time_rounded_up_to_a_whole_minute(
    raw: str, expected: datetime
) -> None:
    assert minute_time(parse_until(raw, now=NOW)) == expected


def test_answers_write_early_years_with_four_digits() -> None:
    span = query_range(60, parse_until("0872-07-26T01:00:00Z", now=NOW))
    assert span.bounds() == {
        "from": "0872-07-26T00:00:00.000Z",
        "until": "0872-07-26T01:00:00.000Z",
    }


@pytest.mark.parametrize(
    "raw, minutes, bounds",
    [
        ("0001-01-01T00:30:00Z", 60, ("0001-01-01T00:00:00.000Z", "0001-01-01T00:30:00.000Z")),
        ("0001-01-01T00:00:00+23:52", 60, ("0001-01-01T00:00:00.000Z",) * 2),
        ("0000-06-01T00:00:00Z", 60, ("0001-01-01T00:00:00.000Z",) * 2),
        ("9999-12-31T23:59:30Z", 1, ("9999-12-31T23:59:00.000Z",) * 2),
    ],
)
def test_a_range_is_cut_to_the_years_1_to_9999(
    raw: str, minutes: int, bounds: tuple[str, str]
) -> None:
    span = query_range(minutes, parse_until(raw, now=NOW))
    assert (span.bounds()["from"], span.bounds()["until"]) == bounds
