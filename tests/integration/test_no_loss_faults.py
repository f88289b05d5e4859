"""No input is lost when the infrastructure fails: the worker stops without committing, and redelivery applies it.

Given a worker whose Faust classes fail once for one marked record
(:mod:`tests.support.faulty_worker`: an output send, a RocksDB write, a
changelog write, or the dead-letter send itself), when that record arrives,
then the worker stops with a non-zero status and the one ``FATAL`` line, its
consumer group has not committed past the record, and the same worker started
again (the infrastructure healthy now) applies the record, or dead-letters it
if it is poison, exactly as if nothing had happened: never an agent restart
that acknowledges it (Faust's default, which lost a 900 KB poison value).

``make test`` runs the two faults of the issue (a send, a store write; about
15 s each); ``make test-full`` adds a failing changelog write and a failing
dead-letter send.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from app.kafka.topic_names import DEAD_LETTERS, INPUT_TOPICS
from tests.support.kafka_io import (
    committed_offsets,
    end_offsets,
    produce_raw,
    read_topic,
    start_group_at_the_end,
)
from tests.support.shop_events import ShopScript
from tests.support.worker_process import WorkerProcess

FATAL_LINE = "FATAL: worker stops without committing"

FAULTS = [
    pytest.param("send:order-status", "order", id="output-send-fails"),
    pytest.param("store:orders", "order", id="store-write-fails"),
    pytest.param("changelog:orders", "order", id="changelog-write-fails", marks=pytest.mark.slow),
    pytest.param(
        "send:dead-letters", "poison", id="dead-letter-send-fails", marks=pytest.mark.slow
    ),
]


async def _wait_for_exit(worker: WorkerProcess, timeout: float = 60.0) -> int:
    assert worker.process is not None
    deadline = time.monotonic() + timeout
    while worker.process.poll() is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"the worker did not stop:\n{worker.log_tail()}")
        await asyncio.sleep(0.2)
    return worker.process.returncode


@pytest.mark.parametrize(("fault", "record"), FAULTS)
async def test_a_failing_infrastructure_stops_the_worker_and_the_record_is_redelivered(
    start_worker: Callable[..., WorkerProcess],
    kafka_bootstrap: str,
    unique: str,
    tmp_path: Path,
    fault: str,
    record: str,
) -> None:
    group = f"shopstream-test-{unique}"
    await start_group_at_the_end(kafka_bootstrap, group, INPUT_TOPICS)
    script = ShopScript(unique)
    order_id = script.order_id("marked")
    worker = start_worker(
        module="tests.support.faulty_worker",
        SHOPSTREAM_TEST_FAULTS=f"{fault}:{order_id}",
        SHOPSTREAM_TEST_FAULT_STATE=str(tmp_path / "faults-fired"),
    )
    worker.wait_ready()
    letters_from = await end_offsets(kafka_bootstrap, DEAD_LETTERS)
    status_from = await end_offsets(kafka_bootstrap, "order-status")

    # When the marked record arrives and the infrastructure fails on it
    topic, key, value = script.created("marked")
    raw = orjson.dumps(value) if record == "order" else b"\xff poison " + order_id.encode()
    [(_, partition, offset)] = await produce_raw(kafka_bootstrap, [(topic, key.encode(), raw)])

    # Then the worker stops, non-zero, saying why, without committing the record
    status = await _wait_for_exit(worker)
    log = worker.log_path.read_text(errors="replace")
    assert status != 0 and FATAL_LINE in log, worker.log_tail()
    # (agents cancelled by the shutdown itself may be "restarted" on their way out: harmless,
    # nothing is committed any more; the failed agent itself never is)
    restarts = [line for line in log.splitlines() if "Restarting dead" in line]
    assert all("CancelledError" in line for line in restarts), restarts
    committed = (await committed_offsets(kafka_bootstrap, group)).get((topic, partition))
    assert committed is not None and committed <= offset, (committed, offset)

    # When the same worker starts again on a healthy infrastructure
    worker.start().wait_ready()

    # Then the record is applied (or, if poison, dead-lettered) exactly once
    if record == "order":
        answer, body = worker.get(f"/orders/{order_id}?wait_for=CREATED&timeout=60")
        assert answer == 200 and body["version"] == 1, body
        changes = await read_topic(
            kafka_bootstrap,
            "order-status",
            key_prefix=order_id,
            until=lambda rs: len(rs) >= 1,
            timeout=30,
            start_offsets=status_from,
        )
        assert {c["value"]["version"] for c in changes} == {1}
    letters = await read_topic(
        kafka_bootstrap,
        DEAD_LETTERS,
        key_prefix=order_id,
        until=lambda rs: len(rs) >= 1,
        timeout=30 if record == "poison" else 3,  # an applied order: none may come
        start_offsets=letters_from,
    )
    wanted = 1 if record == "poison" else 0
    assert len(letters) == wanted, letters
    if letters:
        letter = letters[0]["value"]
        assert (letter["source_topic"], letter["partition"], letter["offset"]) == (
            topic,
            partition,
            offset,
        )
