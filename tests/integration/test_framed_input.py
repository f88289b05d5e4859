"""Framed input and output on a real Apicurio registry, with confluent-kafka's own serdes.

One worker (registry configured, ``SHOPSTREAM_OUTPUT_FORMAT=confluent-json``)
serves the whole module: it registers the contract's subjects at start-up;
records framed by confluent-kafka's ``JSONSerializer`` and plain JSON meet on
the same topics and make the same orders; unknown ids and values their writer
schema refuses are dead-lettered (stages ``decode`` and ``validate``); a paused
registry holds a framed record back until it answers again; and
``order-status`` values are read back with confluent-kafka's ``JSONDeserializer``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from app.kafka.codec import encode_json, frame
from app.schemas.documents import CONTRACT_TOPICS, document_text, subject_for
from localservices.registry import LocalSchemaRegistry
from tests.conftest import BrokerAddress
from tests.support.kafka_io import produce, read_topic
from tests.support.shop_events import ShopScript
from tests.support.worker_process import WorkerProcess

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def registry() -> Iterator[LocalSchemaRegistry]:
    """This module's own registry: a test pauses it."""
    with LocalSchemaRegistry() as local:
        yield local


@pytest.fixture(scope="module")
def framing_worker(
    kafka_broker: BrokerAddress,
    registry: LocalSchemaRegistry,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(
        broker_url=kafka_broker.url,
        workdir=tmp_path_factory.mktemp("framed"),
        app_id=f"shopstream-framed-{time.monotonic_ns()}",
        env={"SCHEMA_REGISTRY_URL": registry.url, "SHOPSTREAM_OUTPUT_FORMAT": "confluent-json"},
    ).start()
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()


def _client(registry: LocalSchemaRegistry) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": registry.url})


def _serialize(client: SchemaRegistryClient, topic: str, value: dict[str, Any]) -> bytes:
    """What a shop's producer writes: confluent-kafka's JSONSerializer with our document."""
    serializer = JSONSerializer(
        document_text(topic),
        client,
        conf={"auto.register.schemas": False, "use.latest.version": True},
    )
    framed = serializer(value, SerializationContext(topic, MessageField.VALUE))
    assert framed is not None and framed[:1] == b"\x00"
    return bytes(framed)


def test_the_worker_registers_the_contract_at_start_up(
    framing_worker: WorkerProcess, registry: LocalSchemaRegistry
) -> None:
    client = _client(registry)

    subjects = set(client.get_subjects())

    assert {subject_for(t) for t in CONTRACT_TOPICS} <= subjects
    assert client.get_compatibility(subject_for("orders")) == "BACKWARD_TRANSITIVE"


async def test_framed_and_plain_records_make_the_same_orders_and_outputs_are_framed(
    framing_worker: WorkerProcess, registry: LocalSchemaRegistry, kafka_bootstrap: str, unique: str
) -> None:
    client = _client(registry)
    script = ShopScript(unique)
    a_created, b_created = script.created("a"), script.created("b")
    a_paid, b_paid = (
        script.payment("a", "authorized"),
        script.payment("b", "authorized"),
    )
    records: list[tuple[str, str | None, Any]] = [
        (a_created[0], a_created[1], _serialize(client, "orders", a_created[2])),
        a_paid,
        b_created,
        (b_paid[0], b_paid[1], _serialize(client, "payments", b_paid[2])),
    ]

    await produce(kafka_bootstrap, records)

    for order in ("a", "b"):
        status, body = framing_worker.get(
            f"/orders/{script.order_id(order)}?wait_for=PAID&timeout=60"
        )
        assert status == 200 and body["status"] == "PAID", body

    deserializer = JSONDeserializer(None, schema_registry_client=client)
    consumer = AIOKafkaConsumer(
        "order-status", bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    changes: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(changes) < 4:
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                for message in messages:
                    if message.key is not None and message.key.decode().startswith(unique):
                        assert message.value[:1] == b"\x00"
                        ctx = SerializationContext("order-status", MessageField.VALUE)
                        changes.append(deserializer(message.value, ctx))
    finally:
        await consumer.stop()
    assert sorted((c["order_id"], c["status"]) for c in changes) == [
        (script.order_id("a"), "CREATED"),
        (script.order_id("a"), "PAID"),
        (script.order_id("b"), "CREATED"),
        (script.order_id("b"), "PAID"),
    ]


async def test_unknown_ids_and_values_their_schema_refuses_are_dead_lettered(
    framing_worker: WorkerProcess, registry: LocalSchemaRegistry, kafka_bootstrap: str, unique: str
) -> None:
    client = _client(registry)
    strict = json.loads(document_text("orders"))
    strict["oneOf"][0]["required"].append("session_id")
    strict["oneOf"][0]["properties"]["session_id"] = {"type": "string", "minLength": 5}
    strict_id = client.register_schema(f"{unique}-strict-value", Schema(json.dumps(strict), "JSON"))
    script = ShopScript(unique)
    unknown, refused = script.created("unknown-id"), script.created("refused")
    refused[2]["session_id"] = "s-1"  # valid for ShopStream, too short for its writer's schema

    await produce(
        kafka_bootstrap,
        [
            (unknown[0], unknown[1], frame(987654, encode_json(unknown[2]))),
            (refused[0], refused[1], frame(strict_id, encode_json(refused[2]))),
        ],
    )

    letters = await read_topic(
        kafka_bootstrap,
        "dead-letters",
        key_prefix=unique,
        until=lambda records: len(records) >= 2,
        timeout=60,
    )
    by_key = {r["key"]: r["value"] for r in letters}
    assert by_key[unknown[1]]["stage"] == "decode"
    assert "987654" in by_key[unknown[1]]["error"]
    assert by_key[refused[1]]["stage"] == "validate"
    assert "session_id" in by_key[refused[1]]["error"]
    for order in ("unknown-id", "refused"):
        assert framing_worker.get(f"/orders/{script.order_id(order)}")[0] == 404


async def test_a_framed_record_waits_while_the_registry_is_down(
    framing_worker: WorkerProcess, registry: LocalSchemaRegistry, kafka_bootstrap: str, unique: str
) -> None:
    client = _client(registry)
    fresh = json.loads(document_text("orders"))
    fresh["title"] = f"orders value as {unique} writes it"  # a new schema, so a new id
    schema_id = client.register_schema(f"{unique}-writer-value", Schema(json.dumps(fresh), "JSON"))
    script = ShopScript(unique)
    created = script.created("waits")
    order_url = f"/orders/{script.order_id('waits')}"

    registry.pause()
    try:
        await produce(
            kafka_bootstrap, [(created[0], created[1], frame(schema_id, encode_json(created[2])))]
        )
        time.sleep(4)
        assert framing_worker.get(order_url)[0] == 404  # held back, not dropped, not applied
    finally:
        registry.resume()

    status, body = framing_worker.get(f"{order_url}?wait_for=CREATED&timeout=60")
    assert status == 200, body
