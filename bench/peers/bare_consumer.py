"""The ceiling for a Python consumer: aiokafka reading the topic, orjson decoding each value.

``python -m bench.peers.bare_consumer --bootstrap HOST:PORT --topic clickstream --count N``
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import orjson
from aiokafka import AIOKafkaConsumer


async def consume(bootstrap: str, topic: str, count: int, timeout: float) -> dict[str, float]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    seen = 0
    # Timed from the first fetch on (connected and assigned by then), so the fetching
    # is measured too, not only the decoding of already prefetched records.
    first = time.perf_counter()
    deadline = time.monotonic() + timeout
    try:
        while seen < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for records in batches.values():
                for record in records:
                    orjson.loads(record.value)
                seen += len(records)
        end = time.perf_counter()
    finally:
        await consumer.stop()
    if seen < count:
        raise SystemExit(f"bare consumer read {seen}/{count} records within {timeout:g}s")
    seconds = end - first
    return {"events": seen, "seconds": seconds, "rate": seen / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    result = asyncio.run(consume(args.bootstrap, args.topic, args.count, args.timeout))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
