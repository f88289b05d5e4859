"""SharedAnswers: concurrent identical questions computed once, kept briefly, failures not kept."""

from __future__ import annotations

import asyncio

import pytest

from app.cluster.shared import SharedAnswers


async def test_concurrent_callers_share_one_computation_and_reuse_it_briefly() -> None:
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return calls

    shared: SharedAnswers[str, int] = SharedAnswers(ttl=0.2)
    assert await asyncio.gather(*(shared.get("q", compute) for _ in range(50))) == [1] * 50
    assert await shared.get("q", compute) == 1  # within the ttl
    assert await shared.get("other", compute) == 2  # another question
    await asyncio.sleep(0.25)
    assert await shared.get("q", compute) == 3  # expired


async def test_a_failure_is_not_kept_and_a_caller_leaving_does_not_cancel_the_others() -> None:
    attempts = 0

    async def flaky() -> str:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.05)
        if attempts == 1:
            raise RuntimeError("rebalancing")
        return "ok"

    shared: SharedAnswers[str, str] = SharedAnswers(ttl=10)
    with pytest.raises(RuntimeError):
        await shared.get("q", flaky)
    leaving = asyncio.ensure_future(shared.get("q", flaky))
    staying = asyncio.ensure_future(shared.get("q", flaky))
    await asyncio.sleep(0.01)
    leaving.cancel()
    assert await staying == "ok"
    assert attempts == 2
