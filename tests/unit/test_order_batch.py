"""The order agent's batch: outputs first, the state held (and readable) until they are acked.

Batches are pipelined on a worker: a batch is decided while earlier ones still wait for
their acknowledgements, on the states they hold.

The table and the producer's record batches are stand-ins here; the integration tests
(test_order_lifecycle, test_crash_redelivery, test_worker_crashes) run the
real thing against a broker.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

import agents.orders as orders
import tables.orders as order_rows
from domain.order_events import to_wire
from tests.support.batch_stand_ins import Record, RecordingOutputs, RecordingTable
from tests.unit.domain.factories import authorized, created


def _record(event: Any, offset: int) -> Any:
    message = SimpleNamespace(
        topic=event.topic,
        partition=2,
        offset=offset,
        key=event.order_id.encode(),
        value=orjson.dumps(to_wire(event)),
    )
    return Record(message)


@dataclass
class _Stage:
    table: RecordingTable
    outputs: RecordingOutputs


@pytest.fixture
def stage(monkeypatch: pytest.MonkeyPatch) -> _Stage:
    """The agent module with a recording table and outputs acknowledged only when told."""
    table = RecordingTable()
    monkeypatch.setattr(orders, "orders_table", table)
    monkeypatch.setattr(order_rows, "orders_table", table)
    outputs = RecordingOutputs()
    monkeypatch.setattr(orders, "output_batches", outputs)
    return _Stage(table, outputs)


async def test_the_state_is_written_once_after_the_outputs_are_acknowledged(
    stage: _Stage,
) -> None:
    batch = orders.OrderBatch()
    try:
        await batch.take(_record(created(), 10))
        await batch.take(_record(authorized(), 11))  # decided on the state held from the first
        held = order_rows.current_order("o-1")
        assert held is not None and str(held.status) == "PAID"  # HTTP sees it already
        batch.submit()
        finish = asyncio.create_task(batch.complete())
        (acknowledged,) = stage.outputs.submits
        await asyncio.sleep(0.05)
        assert not finish.done() and stage.table.writes == []  # outputs not acked yet
        assert [topic for topic, _ in stage.outputs.added].count("order-status") == 2
        acknowledged.set_result(None)
        await asyncio.wait_for(finish, timeout=3)
    finally:
        order_rows.release_held(batch.states)
    assert stage.table.writes == [(2, "o-1")]  # once, on the order's partition
    stored = order_rows.current_order("o-1")
    assert stored is not None and stored.version == 2


async def test_a_refused_output_raises_and_writes_nothing(stage: _Stage) -> None:
    batch = orders.OrderBatch()
    try:
        await batch.take(_record(created(), 10))
        batch.submit()
        finish = asyncio.create_task(batch.complete())
        stage.outputs.submits[-1].set_exception(RuntimeError("NotEnoughReplicas"))
        with pytest.raises(RuntimeError, match="NotEnoughReplicas"):
            await finish
    finally:
        order_rows.release_held(batch.states)
    assert stage.table.writes == []
    assert order_rows.current_order("o-1") is None


async def test_a_batch_decided_while_the_previous_waits_builds_on_its_held_state(
    stage: _Stage,
) -> None:
    first, second = orders.OrderBatch(), orders.OrderBatch()
    try:
        await first.take(_record(created(), 10))
        first.submit()  # its outputs wait for the broker
        await second.take(_record(authorized(), 11))
        second.submit()
        assert [topic for topic, _ in stage.outputs.added].count("order-status") == 2
        first_acked, second_acked = stage.outputs.submits

        completing = asyncio.create_task(first.complete())
        await asyncio.sleep(0.01)
        assert stage.table.writes == []  # not before its own outputs are acked
        first_acked.set_result(None)
        await asyncio.wait_for(completing, timeout=3)
        stored = order_rows.orders_table["o-1"]
        assert stored["version"] == 1  # the first batch's state, not the second's held one
        paid = order_rows.current_order("o-1")
        assert paid is not None and paid.version == 2  # still held: newer than the table

        second_acked.set_result(None)
        await asyncio.wait_for(second.complete(), timeout=3)
    finally:
        order_rows.release_held(first.states)
        order_rows.release_held(second.states)
    assert stage.table.writes == [(2, "o-1"), (2, "o-1")]
    assert order_rows.orders_table["o-1"]["version"] == 2
    assert order_rows._held == {}


async def test_a_batch_whose_outputs_cannot_be_handed_over_releases_what_it_held(
    stage: _Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse() -> list[asyncio.Future[Any]]:
        assert order_rows.current_order("o-1") is not None  # held until now
        raise RuntimeError("producer closed")

    monkeypatch.setattr(stage.outputs, "submit", refuse)
    with pytest.raises(RuntimeError, match="producer closed"):
        await orders.start_order_batch([_record(created(), 10), _record(authorized(), 11)])
    assert order_rows._held == {}
    assert stage.table.writes == []
