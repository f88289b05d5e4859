"""``python -m tests.support.faulty_worker worker``: a real worker with injected infrastructure faults.

For the no-loss tests only (never imported by the App): the worker is
``shopstream worker`` with Faust's classes patched so that, for records whose
key contains a marker, the infrastructure fails the way it does in production:

- ``send:TOPIC:MARKER``: a send to TOPIC (``order-status``, ``dead-letters``,
  ...) fails as a send does once the Kafka client gave up retrying
  (``KafkaTimeoutError`` from the awaited delivery);
- ``changelog:TABLE:MARKER``: the table's changelog write fails the same way
  (a send nobody awaits: Faust only logs it);
- ``store:TABLE:MARKER``: the table's RocksDB write raises ``OSError`` (a full or failing disk).

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
from faust.stores.rocksdb import Store
from faust.topics import Topic
from faust.transport.drivers.aiokafka import Producer

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


def install_faults() -> None:
    """Patch Faust's send, producer and store classes with the faults of the environment."""
    faults = _faults()
    topic_send, producer_send, store_set = Topic.send, Producer.send, Store._set

    async def send(self: Topic, *args: Any, **kwargs: Any) -> Any:
        name = self.get_topic_name()
        for fault in faults:
            if (
                fault[0] == "send"
                and fault[1] == name
                and _matches(fault[2], kwargs.get("key"))
                and _fires(":".join(fault))
            ):
                return _failed_send(f"send to {name}")
        return await topic_send(self, *args, **kwargs)

    async def produce(self: Producer, topic: str, key: Any, *args: Any, **kwargs: Any) -> Any:
        for fault in faults:
            if (
                fault[0] == "changelog"
                and topic.endswith(f"-{fault[1]}-changelog")
                and _matches(fault[2], key)
                and _fires(":".join(fault))
            ):
                return _failed_send(f"changelog write to {topic}")
        return await producer_send(self, topic, key, *args, **kwargs)

    def set_value(self: Store, key: bytes, value: bytes | None) -> None:
        for fault in faults:
            if (
                fault[0] == "store"
                and self.table_name == fault[1]
                and _matches(fault[2], key)
                and _fires(":".join(fault))
            ):
                raise OSError(f"injected: RocksDB write of {key[:40]!r} failed")
        store_set(self, key, value)

    Topic.send = send  # type: ignore[method-assign]
    Producer.send = produce  # type: ignore[method-assign]
    Store._set = set_value  # type: ignore[method-assign]


if __name__ == "__main__":
    from app.__main__ import main

    install_faults()
    main()
