"""The worker's fetches adapt to the traffic (:mod:`app.faust_patches.fetch_batching`).

Unpatched, Faust's worker consumer has aiokafka's ``fetch_min_bytes=1`` and
``fetch_max_wait_ms=1500`` for every fetch: a fetch per record or two under live load.
"""

from __future__ import annotations

from typing import Any

from app import faust_patches
from app.faust_patches.fetch_batching import FETCH_MAX_WAIT_MS, FETCH_MIN_BYTES, AdaptiveFetch
from app.kafka import fatal


class _Fetcher:
    """aiokafka's Fetcher as far as the adaptation goes: each answer brings records or not."""

    def __init__(self, answers: list[bool]) -> None:
        self.answers = answers
        self._fetch_min_bytes = 1  # Faust's worker consumer
        self._fetch_max_wait_ms = 1500

    async def _proc_fetch_request(self, assignment: Any, node_id: int, request: Any) -> bool:
        return self.answers.pop(0)


async def test_after_records_the_next_fetch_waits_for_bytes_or_a_few_milliseconds() -> None:
    fetcher = _Fetcher([True, True, False, True])
    fetch = AdaptiveFetch(fetcher)
    settings = []
    for _ in range(4):
        settings.append(
            (await fetch(None, 1, None), fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms)
        )
    assert settings == [
        (True, FETCH_MIN_BYTES, FETCH_MAX_WAIT_MS),
        (True, FETCH_MIN_BYTES, FETCH_MAX_WAIT_MS),
        (False, 1, 1500),  # idle: Faust's again, answered at the first record, polled rarely
        (True, FETCH_MIN_BYTES, FETCH_MAX_WAIT_MS),
    ]
    assert FETCH_MAX_WAIT_MS < 1500


async def test_the_worker_consumer_adapts_its_fetcher_once_started() -> None:
    faust_patches.install(fatal)
    from app.main import app

    consumer = app.consumer._thread._create_worker_consumer(app.transport)  # type: ignore[attr-defined]
    try:
        assert consumer.start.__name__ == "start_adaptive"
        assert consumer._fetch_min_bytes == 1  # the first fetch: Faust's
        assert consumer._fetch_max_wait_ms == 1500
    finally:
        await consumer._client.close()
