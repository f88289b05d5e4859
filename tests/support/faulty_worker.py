"""``python -m tests.support.faulty_worker worker``: a real worker with injected infrastructure faults.

For the no-loss tests only (never imported by the App): the worker is
``shopstream worker`` with Faust's classes patched so that, for records whose
key contains a marker, the infrastructure fails the way it does in production:

- ``send:TOPIC:MARKER``: a send to TOPIC (``order-status``, ``dead-letters``,
  ...) fails as a send does once the Kafka client gave up retrying
  (``KafkaTimeoutError`` from the awaited delivery);
- ``changelog:TABLE:MARKER``: the table's changelog write fails the same way
  (a send nobody awaits: Faust only logs it; in bulk, the batch holding the row);
- ``store:TABLE:MARKER``: the table's RocksDB write raises ``OSError`` (a full or failing disk;
  in bulk, the write batch holding the row).

``SHOPSTREAM_TEST_FAULTS`` holds the faults, comma-separated. Each fires once:
``SHOPSTREAM_TEST_FAULT_STATE`` names a file where fired faults are recorded,
so the same worker started again finds the infrastructure healthy.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaTimeoutError
from aiokafka.structs import TopicPartition
from faust.stores.rocksdb import Store
from faust.transport.drivers.aiokafka import Producer

from app.faust_patches import bulk_table_writes as bulk_writes
from app.faust_patches.producer_flush import ledger_of
from app.faust_patches.record_batches import OutputBatches

__all__ = ["install_faults"]


def _faults() -> list[list[str]]:
    spec = os.environ.get("SHOPSTREAM_TEST_FAULTS", "")
    return [fault.split(":") for fault in spec.split(",") if fault]


def _fires(fault: str) -> bool:
    """True the first time ``fault`` is met, across restarts of the worker."""
    state = Path(os.environ["SHOPSTREAM_TEST_FAULT_STATE"])
    fired = state.read_text().splitlines() if state.exists() else []
    if fault in fired:
        return False
    with state.open("a") as out:
        out.write(fault + "\n")
    return True


def _matches(wanted: str, key: Any) -> bool:
    raw = key if isinstance(key, bytes) else str(key).encode()
    return wanted.encode() in raw


def _failed_send(what: str) -> asyncio.Future[Any]:
    failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    failed.set_exception(KafkaTimeoutError(f"injected: {what}"))
    return failed


def _first_fault(faults: list[list[str]], kind: str, target: str, keys: list[Any]) -> str | None:
    """The fault of ``kind`` on ``target`` matching one of ``keys`` that fires now, if any."""
    for fault in faults:
        if (
            fault[0] == kind
            and fault[1] == target
            and any(_matches(fault[2], key) for key in keys)
            and _fires(":".join(fault))
        ):
            return ":".join(fault)
    return None


def _changelog_table(topic: str, faults: list[list[str]]) -> str | None:
    for fault in faults:
        if fault[0] == "changelog" and topic.endswith(f"-{fault[1]}-changelog"):
            return fault[1]
    return None


def install_faults() -> None:
    """Patch Faust's producer and store and the bulk table writes with the environment's faults.

    Outputs reach the broker through ``Producer.send`` (``topic.send`` ends
    there) or in whole record batches (:class:`OutputBatches`: the batch that
    would hold the marked record fails), table rows through Faust's
    ``Store._set`` and changelog sends, or through
    :mod:`app.faust_patches.bulk_table_writes`.
    """
    faults = _faults()
    producer_send, store_set = Producer.send, Store._set
    bulk_store, bulk_changelog = bulk_writes._write_store, bulk_writes._send_changelog
    output_add, output_submit = OutputBatches.add, OutputBatches.submit

    async def produce(self: Producer, topic: str, key: Any, *args: Any, **kwargs: Any) -> Any:
        if _first_fault(faults, "send", topic, [key]):
            return _failed_send(f"send to {topic}")
        table = _changelog_table(topic, faults)
        if table is not None and _first_fault(faults, "changelog", table, [key]):
            return _failed_send(f"changelog write to {topic}")
        return await producer_send(self, topic, key, *args, **kwargs)

    def set_value(self: Store, key: bytes, value: bytes | None) -> None:
        if _first_fault(faults, "store", self.table_name, [key]):
            raise OSError(f"injected: RocksDB write of {key[:40]!r} failed")
        store_set(self, key, value)

    def write_store(store: Store, partition: int, rows: list[tuple[bytes, Any]]) -> None:
        if _first_fault(faults, "store", store.table_name, [key for key, _ in rows]):
            raise OSError(f"injected: RocksDB write batch of {len(rows)} rows failed")
        bulk_store(store, partition, rows)

    def send_changelog(table: Any, store: Store, partition: int, rows: list[Any]) -> None:
        if not _first_fault(faults, "changelog", table.name, [key for key, _ in rows]):
            bulk_changelog(table, store, partition, rows)
            return
        topic = table.changelog_topic.get_topic_name()
        failed = _failed_send(f"changelog batch to {topic}")
        ledger_of(table.app.producer.buffer).track(failed)  # as PartitionBatches.submit does
        bulk_writes.await_answer(
            failed, store=store, tp=TopicPartition(topic, partition), last=len(rows) - 1
        )

    async def add_output(self: OutputBatches, topic: str, key: bytes, value: bytes) -> None:
        if _first_fault(faults, "send", topic, [key]):  # the batch holding it will fail
            self.__dict__.setdefault("_injected", []).append(f"send to {topic}")
            return
        await output_add(self, topic, key, value)

    def submit_outputs(self: OutputBatches) -> list[asyncio.Future[Any]]:
        futures = output_submit(self)
        for what in self.__dict__.pop("_injected", []):
            failed = _failed_send(what)
            ledger_of(self.producer.buffer).track(failed)  # type: ignore[arg-type]
            futures.append(failed)
        return futures

    Producer.send = produce  # type: ignore[method-assign]
    OutputBatches.add = add_output  # type: ignore[method-assign]
    OutputBatches.submit = submit_outputs  # type: ignore[method-assign]
    Store._set = set_value  # type: ignore[method-assign]
    bulk_writes._write_store = write_store
    bulk_writes._send_changelog = send_changelog


if __name__ == "__main__":
    from app.__main__ import main
    from app.main import app as _app  # noqa: F401  # the App installs its Faust patches first

    install_faults()  # so the faults wrap the patched classes, whatever the import order
    main()
