"""The producer buffer's ebb (:mod:`app.faust_patches.producer_ebb`); fails unpatched.

Unpatched, 101 buffered table writes make the conductor log a WARNING and
stall before every record it delivers.
"""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest
from faust.transport.producer import ProducerBuffer

from app import faust_patches
from app.faust_patches.producer_ebb import MAX_BUFFERED
from app.kafka import fatal


async def test_a_few_hundred_buffered_writes_pass_without_a_warning_or_a_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    faust_patches.install(fatal)
    buffer = ProducerBuffer()  # not started: nothing drains it
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))  # type: ignore[assignment]
    for _ in range(500):
        buffer.pending.put_nowait(object())
    with caplog.at_level(logging.INFO):
        await asyncio.wait_for(buffer.wait_until_ebb(), timeout=0.05)
    assert ProducerBuffer.max_messages == MAX_BUFFERED
    assert not [r for r in caplog.records if "producer" in r.getMessage()]
