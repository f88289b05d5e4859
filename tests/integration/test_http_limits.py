"""A worker's limits on a real worker: caps on held connections, clients that hang up, the token.

Given a worker with small caps (2 dashboard streams, 2 long-polls) and a
cluster token, then a third stream and a third long-poll are answered 503
with ``Retry-After`` and a JSON error at once; a long-poll whose client hangs
up ends on the worker right away (its slot is free again long before its
60 s timeout); and internal paths answer 403 JSON without the token, 200 with it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

import aiohttp

from app.cluster.token import CLUSTER_TOKEN_HEADER
from tests.support.worker_process import WorkerProcess

TOKEN = "limits-test-token-0123456789"


async def _held(session: aiohttp.ClientSession, base: str, kind: str) -> float:
    async with session.get(f"{base}/metrics") as response:
        text = await response.text()
    found = re.search(rf'shopstream_http_held_connections{{kind="{kind}"}} ([0-9.]+)', text)
    return float(found.group(1)) if found else 0.0


async def _until_held(session: aiohttp.ClientSession, base: str, kind: str, value: float) -> float:
    """Seconds until the worker holds ``value`` connections of ``kind`` (fails after 10 s)."""
    started = time.monotonic()
    while (held := await _held(session, base, kind)) != value:
        assert time.monotonic() - started < 10, f"{kind}: {held} held, expected {value}"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def _assert_busy(response: aiohttp.ClientResponse) -> None:
    assert response.status == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert "too many" in (await response.json())["error"]


async def test_caps_hang_ups_and_the_cluster_token(
    start_worker: Callable[..., WorkerProcess], unique: str
) -> None:
    worker = start_worker(
        SHOPSTREAM_MAX_SSE_CLIENTS="2",
        SHOPSTREAM_MAX_LONG_POLLS="2",
        SHOPSTREAM_CLUSTER_TOKEN=TOKEN,
    )
    worker.wait_ready()
    base = worker.base_url
    async with aiohttp.ClientSession() as session:
        # Dashboard streams: two are served, the third is refused at once
        streams = [await session.get(f"{base}/dashboard/events") for _ in range(2)]
        assert [s.status for s in streams] == [200, 200]
        async with session.get(f"{base}/dashboard/events") as third:
            await _assert_busy(third)
        streams[0].close()  # a browser tab closes: its slot is free again
        await _until_held(session, base, "sse", 1)
        async with session.get(f"{base}/dashboard/events") as again:
            assert again.status == 200
        for stream in streams[1:]:
            stream.close()

        # Long-polls: two wait, the third is refused at once
        wait = f"{base}/orders/{unique}-nobody?wait_for=DELIVERED&timeout=60"
        waits = [asyncio.create_task(session.get(wait)) for _ in range(2)]
        await _until_held(session, base, "long_poll", 2)
        async with session.get(wait) as third:
            await _assert_busy(third)

        # When their clients hang up, the waits end on the worker, not after 60 s
        for task in waits:
            task.cancel()
        ended_after = await _until_held(session, base, "long_poll", 0)
        assert ended_after < 5

        # Internal paths: 403 JSON without the token, 200 with it
        for path in ("/internal/analytics/stats", "/internal/order-status-counts"):
            for headers in ({}, {CLUSTER_TOKEN_HEADER: "not-the-token-000000"}):
                async with session.get(f"{base}{path}", headers=headers) as response:
                    assert response.status == 403, path
                    assert CLUSTER_TOKEN_HEADER in (await response.json())["error"]
            async with session.get(f"{base}{path}", headers={CLUSTER_TOKEN_HEADER: TOKEN}) as ok:
                assert ok.status == 200, path
        # and the public answer that fans out to the group still works
        async with session.get(f"{base}/analytics/order-status-counts") as counts:
            assert counts.status == 200
            assert (await counts.json())["complete"] is True
