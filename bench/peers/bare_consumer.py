"""The ceiling for a Python consumer: aiokafka reading the topic, orjson decoding each value.

``python -m bench.peers.bare_consumer --bootstrap HOST:PORT --topic clickstream --count N``
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition


async def consume(
    bootstrap: str,
    topic: str,
    count: int,
    timeout: float,
    passes: int = 1,
    partition_count: int = 4,
) -> dict[str, float]:
    """Read the ``count`` records ``passes`` times (seeking back), decoding each value.

    Several passes make the timed span long enough to mean something: one pass
    over a few tens of thousands of small records takes a fraction of a second.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in range(partition_count)]
    consumer.assign(partitions)
    seen = 0
    # Timed from the first fetch on (connected and assigned by then), so the fetching
    # is measured too, not only the decoding of already prefetched records.
    first = time.perf_counter()
    deadline = time.monotonic() + timeout
    try:
        for _ in range(passes):
            await consumer.seek_to_beginning(*partitions)
            seen_this_pass = 0
            while seen_this_pass < count and time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
                for records in batches.values():
                    for record in records:
                        orjson.loads(record.value)
                    seen_this_pass += len(records)
            seen += seen_this_pass
        end = time.perf_counter()
    finally:
        await consumer.stop()
    if seen < count * passes:
        raise SystemExit(f"bare consumer read {seen}/{count * passes} records within {timeout:g}s")
    seconds = end - first
    return {"events": seen, "seconds": seconds, "rate": seen / seconds, "passes": passes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--passes", type=int, default=1, help="read the records this many times")
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args()
    result = asyncio.run(
        consume(
            args.bootstrap,
            args.topic,
            args.count,
            args.timeout,
            max(1, args.passes),
            args.partitions,
        )
    )
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
