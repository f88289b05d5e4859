"""One measurement of one Python Kafka client, the twin of ``bench/clients/node/bench.js``.

``python -m bench.clients.python_client --client aiokafka|confluent-kafka --mode
produce|consume|latency --bootstrap HOST:PORT --topic T --value-file F [--count N]
[--group G] [--rate R --seconds S --warmup-seconds W]`` prints one JSON line.

The same settings as the Node.js side: acks=all and idempotence, linger 5 ms (librdkafka's
default; ShopStream sets the same for Faust's aiokafka producer), keys ``o-<i mod 10000>``,
one value for every message. Only the client under test is imported, so the peak RSS is
the interpreter plus that client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["main"]

LINGER_MS = 5


def peak_rss_kib() -> float:
    """This process's peak RSS since its exec (Linux VmHWM).

    Not ``ru_maxrss``: Linux carries it across fork and exec, so a child of a bigger
    parent would report the parent's size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _key(i: int) -> bytes:
    return f"o-{i % 10000}".encode()


def _fixed_rate(rate: float, seconds: float) -> Iterator[range]:
    """The message indices due at each tick of a fixed-rate schedule (``rate`` per second).

    The caller sends those, then waits about a millisecond before asking for the next.
    """
    total = round(rate * seconds)
    start = time.perf_counter()
    sent = 0
    while sent < total:
        due = min(total, int((time.perf_counter() - start) * rate) + 1)
        yield range(sent, due)
        sent = due


def _latency_summary(samples: list[float]) -> dict[str, Any]:
    from bench.stats import percentile

    ordered = sorted(samples)
    return {
        "samples": len(ordered),
        "p50_ms": percentile(ordered, 50),
        "p99_ms": percentile(ordered, 99),
    }


# ------------------------------------------------------------------ aiokafka


async def _aiokafka_producer(args: argparse.Namespace) -> Any:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=args.bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=LINGER_MS,
    )
    await producer.start()
    return producer


async def _aiokafka_produce(args: argparse.Namespace, value: bytes) -> dict[str, Any]:
    producer = await _aiokafka_producer(args)
    failures: list[BaseException] = []

    def on_done(future: asyncio.Future[Any]) -> None:
        if future.exception() is not None:
            failures.append(future.exception())  # type: ignore[arg-type]

    try:
        start = time.perf_counter()
        for i in range(args.count):
            # send() waits while the accumulator is full; the futures are not kept (their
            # memory would be the benchmark's, not the client's).
            (await producer.send(args.topic, value, key=_key(i))).add_done_callback(on_done)
        await producer.flush()
        seconds = time.perf_counter() - start
    finally:
        await producer.stop()
    if failures:
        raise RuntimeError(f"{len(failures)} deliveries failed, first: {failures[0]}")
    return {"messages": args.count, "seconds": seconds}


async def _aiokafka_consume(args: argparse.Namespace) -> dict[str, Any]:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        args.topic,
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen = size = 0
    first: float | None = None
    try:
        while seen < args.count:
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for records in batches.values():
                if first is None:
                    first = time.perf_counter()
                size += sum(len(record.value or b"") for record in records)
                seen += len(records)
        last = time.perf_counter()
    finally:
        await consumer.stop()
    if first is None:
        raise RuntimeError(f"no record read from {args.topic}")
    return {"messages": seen, "seconds": last - first, "bytes": size}


async def _aiokafka_latency(args: argparse.Namespace, value: bytes) -> dict[str, Any]:
    producer = await _aiokafka_producer(args)
    samples: list[float] = []
    warmup = round(args.rate * args.warmup_seconds)
    pending: list[asyncio.Future[Any]] = []

    def on_done(i: int, sent: float) -> Callable[[asyncio.Future[Any]], None]:
        def record(_: asyncio.Future[Any]) -> None:
            if i >= warmup:
                samples.append((time.perf_counter() - sent) * 1000)

        return record

    try:
        for due in _fixed_rate(args.rate, args.seconds):
            for i in due:
                sent = time.perf_counter()
                future = await producer.send(args.topic, value, key=_key(i))
                future.add_done_callback(on_done(i, sent))
                pending.append(future)
            await asyncio.sleep(0.001)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return _latency_summary(samples)


# ------------------------------------------------------------------ confluent-kafka


def _confluent_producer(args: argparse.Namespace) -> Any:
    from confluent_kafka import Producer

    return Producer(
        {
            "bootstrap.servers": args.bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": LINGER_MS,
        }
    )


def _confluent_produce(args: argparse.Namespace, value: bytes) -> dict[str, Any]:
    producer = _confluent_producer(args)
    failures: list[Any] = []

    def on_delivery(error: Any, _message: Any) -> None:
        if error is not None:
            failures.append(error)

    start = time.perf_counter()
    for i in range(args.count):
        while True:
            try:
                producer.produce(args.topic, value, key=_key(i), on_delivery=on_delivery)
                break
            except BufferError:  # the local queue is full: serve delivery reports, retry
                producer.poll(0.001)
        producer.poll(0)
    producer.flush()
    seconds = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{len(failures)} deliveries failed, first: {failures[0]}")
    return {"messages": args.count, "seconds": seconds}


def _confluent_consume(args: argparse.Namespace) -> dict[str, Any]:
    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": args.group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([args.topic])
    seen = size = 0
    first: float | None = None
    try:
        while seen < args.count:
            messages = consumer.consume(num_messages=1000, timeout=0.5)
            if messages and first is None:
                first = time.perf_counter()
            for message in messages:
                if message.error() is not None:
                    raise RuntimeError(str(message.error()))
                size += len(message.value() or b"")
            seen += len(messages)
        last = time.perf_counter()
    finally:
        consumer.close()
    if first is None:
        raise RuntimeError(f"no record read from {args.topic}")
    return {"messages": seen, "seconds": last - first, "bytes": size}


def _confluent_latency(args: argparse.Namespace, value: bytes) -> dict[str, Any]:
    producer = _confluent_producer(args)
    samples: list[float] = []
    warmup = round(args.rate * args.warmup_seconds)

    def on_delivery(i: int, sent: float) -> Callable[[Any, Any], None]:
        def record(error: Any, _message: Any) -> None:
            if error is not None:
                raise RuntimeError(str(error))
            if i >= warmup:
                samples.append((time.perf_counter() - sent) * 1000)

        return record

    for due in _fixed_rate(args.rate, args.seconds):
        for i in due:
            producer.produce(
                args.topic, value, key=_key(i), on_delivery=on_delivery(i, time.perf_counter())
            )
        producer.poll(0.001)  # serves delivery reports while it waits for the next slot
    producer.flush()
    return _latency_summary(samples)


# ------------------------------------------------------------------ main


def run(args: argparse.Namespace) -> dict[str, Any]:
    value = Path(args.value_file).read_bytes()
    if args.client == "aiokafka":
        if args.mode == "produce":
            return asyncio.run(_aiokafka_produce(args, value))
        if args.mode == "consume":
            return asyncio.run(_aiokafka_consume(args))
        return asyncio.run(_aiokafka_latency(args, value))
    if args.mode == "produce":
        return _confluent_produce(args, value)
    if args.mode == "consume":
        return _confluent_consume(args)
    return _confluent_latency(args, value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.clients.python_client")
    parser.add_argument("--client", choices=("aiokafka", "confluent-kafka"), required=True)
    parser.add_argument("--mode", choices=("produce", "consume", "latency"), required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--value-file", required=True)
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--group", default="")
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--seconds", type=float, default=0.0)
    parser.add_argument("--warmup-seconds", type=float, default=1.0)
    args = parser.parse_args(argv)
    result = run(args)
    if result.get("seconds"):
        result["rate"] = result["messages"] / result["seconds"]
    peak_rss_mib = peak_rss_kib() / 1024
    line = {"client": args.client, "mode": args.mode, **result, "peak_rss_mib": peak_rss_mib}
    sys.stdout.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
