"""What framed input costs: decoding plain JSON against the Confluent wire format, events/s.

A micro-benchmark of the per-record decode path, without Kafka: the load
generator's valid events are decoded and validated as the agents do it,
once as plain JSON (decode + the domain's checks), once framed (decode +
validation against the writer's schema, fetched by id from a real local
Apicurio once and cached + the domain's checks). One process, one core.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from app.kafka.codec import decode_value
from app.kafka.topic_names import CLICKSTREAM
from app.schemas.registry import SchemaRegistry, input_schema_ids
from app.schemas.writer_schemas import WriterSchemas, framed_schema_ids
from bench.harness import Harness
from bench.report import Row
from bench.stats import ratio, summarize
from domain.click_events import click_event_from_wire
from domain.order_events import order_event_from_wire
from loadgen import SimEvent, SimulationOptions, generate_events
from loadgen.framing import frame_share
from localservices.registry import LocalSchemaRegistry

__all__ = ["run_decoding"]


def _events(count: int, seed: int) -> list[SimEvent]:
    options = SimulationOptions(
        count=count, seed=seed, start_time=datetime(2026, 11, 21, tzinfo=UTC)
    )
    return list(generate_events(options))


def _rate(events: Sequence[SimEvent], decode: Callable[[SimEvent], object]) -> float:
    started = time.perf_counter()
    for event in events:
        decode(event)
    return len(events) / (time.perf_counter() - started)


async def run_decoding(h: Harness) -> tuple[list[Row], float | None]:
    count = 5_000 if h.config.quick else 50_000
    plain = _events(count, h.config.seed)
    with LocalSchemaRegistry() as registry:
        ids = await asyncio.to_thread(input_schema_ids, registry.url)
        framed = list(frame_share(plain, share=1.0, schema_ids=ids, seed=h.config.seed))
        writer_schemas = WriterSchemas(SchemaRegistry(registry.url))
        await writer_schemas.prepare(framed_schema_ids(e.value for e in framed))

    def domain(event: SimEvent, value: dict[str, object]) -> None:
        if event.topic == CLICKSTREAM:
            click_event_from_wire(value)
        else:
            order_event_from_wire(event.topic, value)

    def decode_plain(event: SimEvent) -> None:
        domain(event, decode_value(event.value).value)

    def decode_framed(event: SimEvent) -> None:
        decoded = decode_value(event.value)
        writer_schemas.check(decoded)
        domain(event, decoded.value)

    plain_rates, framed_rates = [], []
    for _ in range(h.config.repeats):
        plain_rates.append(_rate(plain, decode_plain))
        framed_rates.append(_rate(framed, decode_framed))
    plain_summary, framed_summary = summarize(plain_rates), summarize(framed_rates)
    h.log(f"decoding: plain {plain_rates}, framed {framed_rates} events/s ({count} events)")
    rows = [
        Row("decoding", "plain JSON", "decode + validate", "events/s", plain_summary),
        Row(
            "decoding",
            "framed (writer schema validated)",
            "decode + validate",
            "events/s",
            framed_summary,
        ),
    ]
    return rows, ratio(framed_summary, plain_summary)
