"""The worker's fetches adapt to the traffic (:mod:`app.faust_patches.fetch_batching`).

Unpatched, Faust's worker consumer has aiokafka's ``fetch_min_bytes=1`` and
``fetch_max_wait_ms=1500`` for every fetch: a fetch per record or two under live load.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from app import faust_patches
from app.faust_patches.fetch_batching import (
    FETCH_MAX_WAIT_MS,
    FETCH_MIN_BYTES,
    SPARSE_BYTES,
    AdaptiveFetch,
)
from app.kafka import fatal


class _Records:
    """aiokafka's ``MemoryRecords`` as far as its size goes."""

    def __init__(self, size: int) -> None:
        self.size = size

    def size_in_bytes(self) -> int:
        return self.size


class _Fetcher:
    """aiokafka's Fetcher as far as the adaptation goes: each answer brings so many bytes.

    An answer of 0 brings nothing; another size is stored as a partition's fetched
    records (``_records[tp]._partition_records._records``), as aiokafka stores them.
    """

    def __init__(self, answers: list[int]) -> None:
        self.answers = answers
        self._fetch_min_bytes = 1  # Faust's worker consumer
        self._fetch_max_wait_ms = 1500
        self._records: dict[str, Any] = {}

    async def _proc_fetch_request(self, assignment: Any, node_id: int, request: Any) -> bool:
        size = self.answers.pop(0)
        if size:
            self._records[f"tp-{len(self.answers)}"] = SimpleNamespace(
                _partition_records=SimpleNamespace(_records=_Records(size))
            )
        return size > 0


async def _settings(answers: list[int]) -> list[tuple[bool, int, int]]:
    fetcher = _Fetcher(answers)
    fetch = AdaptiveFetch(fetcher)
    settings = []
    for _ in range(len(answers)):
        brought = await fetch(None, 1, None)
        settings.append((brought, fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms))
    return settings


async def test_after_records_the_next_fetch_waits_for_bytes_or_a_few_milliseconds() -> None:
    assert await _settings([20_000, 5_000, 0, 16_000]) == [
        (True, FETCH_MIN_BYTES, FETCH_MAX_WAIT_MS),
        (True, FETCH_MIN_BYTES, FETCH_MAX_WAIT_MS),
        (False, 1, 1500),  # idle: Faust's again, answered at the first record, polled rarely
        (True, FETCH_MIN_BYTES, FETCH_MAX_WAIT_MS),
    ]
    assert FETCH_MAX_WAIT_MS < 1500


async def test_after_a_record_or_two_the_next_fetch_is_answered_at_the_next_one() -> None:
    # A trickle: waiting a millisecond after each record mostly bought an empty fetch.
    assert await _settings([300, SPARSE_BYTES - 1, SPARSE_BYTES, 400]) == [
        (True, 1, 1500),
        (True, 1, 1500),
        (True, FETCH_MIN_BYTES, FETCH_MAX_WAIT_MS),
        (True, 1, 1500),
    ]


async def test_records_fetched_earlier_and_not_taken_yet_do_not_count_again() -> None:
    fetcher = _Fetcher([300])
    fetcher._records["tp-earlier"] = SimpleNamespace(
        _partition_records=SimpleNamespace(_records=_Records(50_000))
    )
    await AdaptiveFetch(fetcher)(None, 1, None)
    assert (fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms) == (1, 1500)


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
