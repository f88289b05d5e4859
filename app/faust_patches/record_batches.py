"""Speed-up: records handed to aiokafka as whole record batches, one future per batch.

``AIOKafkaProducer.send`` costs a coroutine, a metadata wait, a partitioner
call, an append and a future per record, and the broker's answer resolves
each record's future in turn; Faust's ``Topic.send`` adds a ``FutureMessage``,
sensors and a callback. A worker that already knows it will wait for a whole
batch of records (the order pipeline waits once per input batch; a table
writes a partition's rows at once) can build the record batches itself with
aiokafka's ``BatchBuilder`` and hand each over whole: one future per batch
of up to :data:`MAX_BATCH_BYTES`, which the caller awaits.

Every batch future is put in the producer's send ledger
(:mod:`~app.faust_patches.producer_flush`), so the next offset commit waits
for it and refuses to pass a failure, exactly as for Faust's own sends.
Within a topic partition, aiokafka sends batches in the order they were
added (one in flight per partition), so records keep the order they were
appended in. Records are partitioned by the producer's own partitioner, as
``send`` would (the Java client's murmur2 of the key).

Checked against aiokafka 0.14.0 (the package's version guard): it uses
``AIOKafkaProducer._message_accumulator``, ``_metadata`` and ``_partition``,
and ``MessageAccumulator._append_batch`` (``add_batch`` without its wait for
the previous batch of the partition to be drained: synchronous, so Faust's
commit-cache sensor can use it, and unbounded, which the callers bound).
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any, Final, cast

from aiokafka.errors import ProducerClosed
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.structs import TopicPartition
from faust.transport.producer import ProducerBuffer
from faust.types import ProducerT

from app.faust_patches.producer_flush import ledger_of

__all__ = ["MAX_BATCH_BYTES", "OutputBatches", "PartitionBatches"]

#: Largest record batch built here (the broker's default limit is 1 MiB).
MAX_BATCH_BYTES: Final = 512 * 1024


def _kafka_producer(producer: ProducerT) -> Any:
    return producer._ensure_producer()  # type: ignore[attr-defined]


class PartitionBatches:
    """Records for one topic partition, appended in order, handed over by :meth:`submit`."""

    def __init__(self, producer: ProducerT, tp: TopicPartition) -> None:
        self.producer = producer
        self.tp = tp
        self._client = _kafka_producer(producer)
        self._builders: list[BatchBuilder] = [self._new_builder()]
        #: Per builder: relative offset of its last record (-1: empty).
        self._lasts: list[int] = [-1]

    def _new_builder(self) -> BatchBuilder:
        return BatchBuilder(MAX_BATCH_BYTES, self._client._message_accumulator._compression_type)

    def append(self, key: bytes | None, value: bytes | None) -> None:
        """Add one record (a None value is a tombstone)."""
        if self._builders[-1].append(timestamp=None, key=key, value=value) is None:
            self._builders.append(self._new_builder())  # full: the record opens the next one
            self._lasts.append(-1)
            self._builders[-1].append(timestamp=None, key=key, value=value)
        self._lasts[-1] += 1

    def submit(self) -> list[tuple[asyncio.Future[Any], int]]:
        """Hand every non-empty batch to aiokafka; per batch its future and last relative offset."""
        client = self._client
        if client._metadata.leader_for_partition(self.tp) is None:
            # Not in the producer's metadata yet: the batches wait in the accumulator
            # until the refresh this asks for finds the partition's leader.
            client.client.add_topic(self.tp.topic)
        accumulator = client._message_accumulator
        # What add_batch checks before it appends, and _append_batch does not: a batch
        # appended to a closed accumulator would never be sent, and its future never done.
        if accumulator._closed:
            raise ProducerClosed()
        if accumulator._exception is not None:
            raise copy.copy(accumulator._exception)
        ledger = ledger_of(cast(ProducerBuffer, self.producer.buffer))
        submitted = []
        for builder, last in zip(self._builders, self._lasts, strict=True):
            if last < 0:
                continue
            builder.close()  # nothing else is appended to it: its last record is ours
            future = accumulator._append_batch(builder, self.tp).future
            ledger.track(future)
            submitted.append((future, last))
        self._builders, self._lasts = [self._new_builder()], [-1]
        return submitted


class OutputBatches:
    """Keyed records for any topics, partitioned like ``send``; one future per batch."""

    def __init__(self, producer: ProducerT) -> None:
        self.producer = producer
        self._partitions: dict[TopicPartition, PartitionBatches] = {}

    async def add(self, topic: str, key: bytes, value: bytes) -> None:
        """Add one record to the batch of the partition its key maps to."""
        client = _kafka_producer(self.producer)
        if client._metadata.partitions_for_topic(topic) is None:
            await client.client._wait_on_metadata(topic)  # once per topic and process
        partition = client._partition(topic, None, key, value, key, value)
        tp = TopicPartition(topic, partition)
        batches = self._partitions.get(tp)
        if batches is None:
            batches = self._partitions[tp] = PartitionBatches(self.producer, tp)
        batches.append(key, value)

    def submit(self) -> list[asyncio.Future[Any]]:
        """Hand every batch to aiokafka; the futures of their acknowledgements."""
        futures = [
            future for batches in self._partitions.values() for future, _ in batches.submit()
        ]
        self._partitions.clear()
        return futures
