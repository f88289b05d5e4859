"""The dashboard feed: snapshots composed from the API, and one poller shared by all clients."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import orjson

from app.web.dashboard_feed import SOURCES, SnapshotHub, compose_snapshot, sse_event

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


async def test_snapshot_holds_each_answer_and_names_what_is_missing() -> None:
    async def fetch(path: str) -> tuple[int, Any]:
        if path.startswith("/analytics/revenue"):
            return 200, {"from": "a", "until": "b", "buckets": []}
        if path.startswith("/analytics/sessions"):
            raise TimeoutError
        if path.startswith("/analytics/funnel"):
            return 503, None
        if path.startswith("/analytics/top-products"):
            return 200, ["not", "an", "object"]
        return 404, None

    snapshot = await compose_snapshot(fetch, now=NOW)

    assert snapshot["generated_at"] == "2026-11-21T10:00:00.000Z"
    assert snapshot["window_minutes"] == 60
    assert snapshot["revenue"] == {"from": "a", "until": "b", "buckets": []}
    for section in ("top_products", "funnel", "sessions", "order_status", "operations"):
        assert snapshot[section] is None
    assert snapshot["unavailable"] == {
        "top_products": "HTTP 200",
        "funnel": "HTTP 503",
        "sessions": "TimeoutError",
        "order_status": "HTTP 404",
        "operations": "HTTP 404",
    }


async def test_sources_ask_for_the_last_hour_as_design_md_spells_it() -> None:
    asked: list[str] = []

    async def fetch(path: str) -> tuple[int, Any]:
        asked.append(path)
        return 404, None

    await compose_snapshot(fetch)
    assert sorted(asked) == sorted(SOURCES.values())
    assert "/analytics/top-products?n=10&minutes=60" in asked
    assert "/analytics/revenue?minutes=60" in asked


def test_an_event_is_one_data_line_of_json() -> None:
    raw = sse_event({"text": "two\nlines", "n": 1})
    assert raw.endswith(b"\n\n") and raw.count(b"\n") == 3
    kind, data, _, _ = raw.split(b"\n")
    assert kind == b"event: snapshot"
    assert orjson.loads(data.removeprefix(b"data: ")) == {"text": "two\nlines", "n": 1}


class CountingCompose:
    """A compose function that numbers its snapshots."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        return {"n": self.calls}


async def _next(stream: Any) -> dict[str, Any]:
    result: dict[str, Any] = await asyncio.wait_for(anext(stream), timeout=2)
    return result


async def test_one_poller_serves_every_client_and_stops_with_the_last() -> None:
    compose = CountingCompose()
    hub = SnapshotHub(compose, interval=0.05)
    assert not hub.polling

    async with contextlib.aclosing(hub.stream()) as first:
        assert (await _next(first))["n"] >= 1
        assert hub.polling and hub.listeners == 1
        async with contextlib.aclosing(hub.stream()) as second:
            # A late joiner gets the latest snapshot at once, then the same ticks as the first.
            latest = await _next(second)
            assert latest["n"] == compose.calls
            assert hub.listeners == 2
            seen_first, seen_second = await _next(first), await _next(second)
            assert seen_first["n"] <= compose.calls and seen_second["n"] <= compose.calls
        assert hub.listeners == 1 and hub.polling
    assert hub.listeners == 0 and not hub.polling

    calls = compose.calls
    await asyncio.sleep(0.2)
    assert compose.calls == calls  # nobody listens: nothing is fetched


async def test_a_slow_client_gets_the_newest_snapshot_not_a_backlog() -> None:
    compose = CountingCompose()
    hub = SnapshotHub(compose, interval=0.01)
    async with contextlib.aclosing(hub.stream()) as stream:
        await _next(stream)
        await asyncio.sleep(0.2)  # many ticks pass unread
        newest = await _next(stream)
        assert newest["n"] >= compose.calls - 1


async def test_close_ends_every_stream_and_the_hub_serves_again() -> None:
    hub = SnapshotHub(CountingCompose(), interval=0.05)

    async def consume() -> int:
        count = 0
        async with contextlib.aclosing(hub.stream()) as stream:
            async for _ in stream:
                count += 1
        return count

    consumers = [asyncio.create_task(consume()) for _ in range(3)]
    await asyncio.sleep(0.2)
    await hub.close()
    counts = await asyncio.wait_for(asyncio.gather(*consumers), timeout=2)
    assert all(n >= 1 for n in counts)
    assert hub.listeners == 0 and not hub.polling

    async with contextlib.aclosing(hub.stream()) as stream:
        assert "n" in await _next(stream)


async def test_a_failing_compose_is_retried_not_fatal() -> None:
    attempts = 0

    async def flaky() -> dict[str, Any]:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("first call fails")
        return {"attempt": attempts}

    hub = SnapshotHub(flaky, interval=0.01)
    async with contextlib.aclosing(hub.stream()) as stream:
        assert (await _next(stream))["attempt"] >= 2
