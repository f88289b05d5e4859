"""The order agent's batch: outputs first, the state held (and readable) until they are acked.

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
        finish = asyncio.create_task(batch.finish())
        acknowledged = await stage.outputs.submitted()
        await asyncio.sleep(0.05)
        assert not finish.done() and stage.table.writes == []  # outputs not acked yet
        assert [topic for topic, _ in stage.outputs.added].count("order-status") == 2
        acknowledged.set_result(None)
        await asyncio.wait_for(finish, timeout=3)
    finally:
        order_rows.release_held()
    assert stage.table.writes == [(2, "o-1")]  # once, on the order's partition
    stored = order_rows.current_order("o-1")
    assert stored is not None and stored.version == 2


async def test_a_refused_output_raises_and_writes_nothing(stage: _Stage) -> None:
    batch = orders.OrderBatch()
    try:
        await batch.take(_record(created(), 10))
        finish = asyncio.create_task(batch.finish())
        (await stage.outputs.submitted()).set_exception(RuntimeError("NotEnoughReplicas"))
        with pytest.raises(RuntimeError, match="NotEnoughReplicas"):
            await finish
    finally:
        order_rows.release_held()
    assert stage.table.writes == []
    assert order_rows.current_order("o-1") is None
