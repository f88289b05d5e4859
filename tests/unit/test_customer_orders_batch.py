"""The customer-orders agent's batch: rows cached per commit, fraud windows only after their flags.

The tables, the outputs and the dead-letter topic are stand-ins here; the
integration tests (test_customer_slice, test_order_lifecycle, test_worker_crashes,
test_scale_out) run the real thing against a broker.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

import agents.customer_orders as customer_orders
import agents.fraud as fraud
import tables.customers as customer_rows
from app.kafka.topics import ORDER_COMMANDS
from domain.customer_summary import CustomerSummary
from domain.fraud import CustomerVelocity
from tables.commit_cache import CommitCache, KeyedRows
from tables.fraud import velocity_rows_cache
from tests.support.batch_stand_ins import Record, RecordingOutputs, RecordingTable
from tests.unit.domain.factories import wire_created

PARTITION = 3


def _record(value: bytes, offset: int, key: bytes | None = b"c-1") -> Any:
    message = SimpleNamespace(
        topic="shop-customer-orders", partition=PARTITION, offset=offset, key=key, value=value
    )
    return Record(message)


def _order(n: int, customer_id: str = "c-1") -> Any:
    wire = wire_created(f"e-{n}", order_id=f"o-{n}", customer_id=customer_id, minute=n)
    return _record(orjson.dumps(wire), offset=n, key=customer_id.encode())


@dataclass
class _Stage:
    customers: RecordingTable
    velocity: RecordingTable
    customers_cache: CommitCache[KeyedRows]
    fraud_cache: CommitCache[KeyedRows]
    outputs: RecordingOutputs
    letters: list[Any]


@pytest.fixture
def stage(monkeypatch: pytest.MonkeyPatch) -> _Stage:
    """The agent with recording tables, flags acknowledged only when told, letters kept."""
    customers, velocity = RecordingTable(), RecordingTable()
    customers_cache = customer_rows.customer_rows_cache(customers)  # type: ignore[arg-type]
    fraud_cache = velocity_rows_cache(velocity)  # type: ignore[arg-type]
    monkeypatch.setattr(customer_orders, "customers_cache", customers_cache)
    monkeypatch.setattr(customer_rows, "customers_cache", customers_cache)
    monkeypatch.setattr(customer_rows, "customers_table", customers)
    monkeypatch.setattr(customer_rows, "key_partition", lambda table, key: PARTITION)
    monkeypatch.setattr(customer_orders, "fraud_cache", fraud_cache)
    monkeypatch.setattr(fraud, "fraud_cache", fraud_cache)
    outputs = RecordingOutputs()
    letters: list[Any] = []

    async def send_dead_letters(batch: Any) -> None:
        letters.extend(batch)

    monkeypatch.setattr(fraud, "output_batches", outputs)
    monkeypatch.setattr(customer_orders, "send_dead_letters", send_dead_letters)
    return _Stage(customers, velocity, customers_cache, fraud_cache, outputs, letters)


async def _run(batch: customer_orders.CustomerOrdersBatch, records: list[Any]) -> None:
    for record in records:
        await batch.take(record)


async def test_summaries_are_read_from_the_cache_and_written_once_per_key_at_commit(
    stage: _Stage,
) -> None:
    batch = customer_orders.CustomerOrdersBatch()
    await _run(batch, [_order(1), _order(2), _order(2), _order(3, "c-2")])  # o-2 twice
    await batch.finish()
    assert stage.customers.writes == [] and stage.velocity.writes == []  # not before the commit
    pending = customer_rows.stored_customer("c-1")  # what GET /customers/c-1 answers
    assert pending is not None and pending.orders == 2
    stage.customers_cache.write_all()  # what the commit sensor does
    stage.fraud_cache.write_all()
    assert sorted(stage.customers.writes) == [(PARTITION, "c-1"), (PARTITION, "c-2")]
    assert sorted(stage.velocity.writes) == [(PARTITION, "c-1"), (PARTITION, "c-2")]
    assert CustomerSummary.from_dict(stage.customers["c-1"]).orders == 2
    assert len(CustomerVelocity.from_dict(stage.velocity["c-1"]).orders) == 2
    assert customer_rows.stored_customer("c-2") == CustomerSummary.from_dict(stage.customers["c-2"])
    assert stage.letters == []


async def test_a_fraud_window_reaches_the_cache_only_after_its_flags_are_acknowledged(
    stage: _Stage,
) -> None:
    batch = customer_orders.CustomerOrdersBatch()
    await _run(batch, [_order(n) for n in range(11)])  # the 11th order in an hour is flagged
    assert stage.outputs.added == [("alerts", b"o-10"), (ORDER_COMMANDS, b"o-10")]
    finish = asyncio.create_task(batch.finish())
    acknowledged = await stage.outputs.submitted()
    await asyncio.sleep(0.05)
    assert not finish.done()
    stage.fraud_cache.write_all()  # a timer commit while the batch waits
    assert stage.velocity.writes == [], "the window recording the flag was written before its alert"
    acknowledged.set_result(None)
    await asyncio.wait_for(finish, timeout=3)
    stage.fraud_cache.write_all()
    assert stage.velocity.writes == [(PARTITION, "c-1")]
    flags = [e.flag for e in CustomerVelocity.from_dict(stage.velocity["c-1"]).orders]
    assert flags.count(None) == 10 and flags[-1] is not None


async def test_a_refused_flag_raises_and_caches_no_window(stage: _Stage) -> None:
    batch = customer_orders.CustomerOrdersBatch()
    await _run(batch, [_order(n) for n in range(11)])
    finish = asyncio.create_task(batch.finish())
    (await stage.outputs.submitted()).set_exception(RuntimeError("NotEnoughReplicas"))
    with pytest.raises(RuntimeError, match="NotEnoughReplicas"):
        await finish
    stage.fraud_cache.write_all()
    assert stage.velocity.writes == []


@pytest.mark.parametrize(
    ("value", "key", "stage_name"),
    [
        (b"\xff not json", b"c-1", "decode"),
        (b"[1, 2]", b"c-1", "decode"),
        (orjson.dumps({"type": "order_created", "order_id": "o-9"}), b"c-1", "validate"),
        (orjson.dumps(wire_created("e-9", customer_id="c-1")), b"c-other", "validate"),
        (orjson.dumps(wire_created("e-9", customer_id="c-1")), None, "validate"),
    ],
)
async def test_bad_input_is_dead_lettered_with_a_reason_and_the_batch_goes_on(
    stage: _Stage, value: bytes, key: bytes | None, stage_name: str
) -> None:
    batch = customer_orders.CustomerOrdersBatch()
    await _run(batch, [_record(value, offset=7, key=key), _order(1)])
    await batch.finish()
    assert [(letter.offset, letter.stage) for letter in stage.letters] == [(7, stage_name)]
    assert stage.letters[0].error
    stored = customer_rows.stored_customer("c-1")
    assert stored is not None and stored.orders == 1  # the good record still counted


async def test_an_unreadable_stored_row_is_dead_lettered_at_stage_apply(stage: _Stage) -> None:
    dict.__setitem__(stage.customers, "c-1", {"customer_id": "c-1"})  # no count, no revenue
    dict.__setitem__(stage.velocity, "c-1", {"schema": 99})
    batch = customer_orders.CustomerOrdersBatch()
    await _run(batch, [_order(1)])
    await batch.finish()
    assert [(letter.error_type, letter.stage) for letter in stage.letters] == [
        ("CorruptSummary", "apply"),
        ("CorruptVelocity", "apply"),
    ]
