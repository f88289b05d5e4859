"""The Node.js example on ShopStream: a KafkaJS order service in, a KafkaJS listener out.

Given a real worker on the session broker, when the example's order service
(``examples/node/order-service.js``) publishes order lifecycles, then the
example's status listener reads every status change of every order, in version
order, and ``GET /orders/{id}`` tells the same history: what a Node.js team
copying the example gets. Once with plain JSON; once through the real schema
registry, where the service writes the Confluent wire format with
``@confluentinc/schemaregistry``, the worker validates each value against the
writer's schema and frames its outputs, and the listener reads them framed.
Skipped, in one line, without Node.js 18+ (20+ with the registry) and npm.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from tests.conftest import BrokerAddress
from tests.support.kafka_io import read_topic
from tests.support.node_example import (
    MIN_NODE_MAJOR_WITH_REGISTRY,
    install_node_example,
    node_or_skip,
    node_process,
    run_node,
)
from tests.support.worker_process import WorkerProcess

#: The status changes each of the example's lifecycles (src/shop-events.js) makes.
EXPECTED_STATUSES = {
    "delivered": ["CREATED", "PAID", "SHIPPED", "DELIVERED"],
    "payment-retry": ["CREATED", "PAYMENT_FAILED", "PAID"],
    "cancelled": ["CREATED", "CANCELLED"],
}
ORDERS = 9  # three of each lifecycle


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _publish_and_listen(
    env: dict[str, str], prefix: str
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Run the listener, then the order service; what was published, and each order's changes."""
    expected_changes = sum(
        len(EXPECTED_STATUSES[name]) for name in list(EXPECTED_STATUSES) * (ORDERS // 3)
    )
    listener = node_process(
        "status-listener.js",
        [
            *("--json", "--from-beginning", "--group", f"{prefix}-listener"),
            *("--key-prefix", f"{prefix}-", "--count", str(expected_changes), "--timeout-s", "45"),
        ],
        env=env,
    )
    try:
        published = _json_lines(
            run_node(
                "order-service.js", ["--json", "--orders", str(ORDERS), "--prefix", prefix], env=env
            )
        )
        stdout, stderr = listener.communicate(timeout=60)
    finally:
        if listener.poll() is None:
            listener.kill()
            listener.wait()
    assert listener.returncode == 0, stderr
    assert len(published) == ORDERS
    changes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for change in _json_lines(stdout):
        changes[change["order_id"]].append(change)
    return published, changes


def _assert_every_change_in_order_and_http_agrees(
    worker: WorkerProcess,
    published: list[dict[str, Any]],
    changes: dict[str, list[dict[str, Any]]],
) -> None:
    for order in published:
        expected = EXPECTED_STATUSES[order["lifecycle"]]
        seen = changes[order["order_id"]]
        assert [c["status"] for c in seen] == expected, (order, seen)
        assert [c["version"] for c in seen] == list(range(1, len(expected) + 1)), order
        assert [c["previous_status"] for c in seen] == [None, *expected[:-1]], order
        status, body = worker.get(f"/orders/{order['order_id']}?wait_for={expected[-1]}&timeout=30")
        assert status == 200, body
        assert body["total"] == order["total"]  # a decimal string end to end
        assert body["version"] == len(expected)
        assert [(h["status"], h["version"], h["caused_by"]) for h in body["history"]] == [
            (c["status"], c["version"], c["caused_by"]) for c in seen
        ]


def test_node_services_and_shopstream_agree_on_every_status_change(
    start_worker: Callable[..., WorkerProcess], kafka_broker: BrokerAddress, unique: str
) -> None:
    node_or_skip()
    install_node_example()
    worker = start_worker()
    worker.wait_ready()

    # Given the Node.js listener, when the Node.js order service publishes its lifecycles
    published, changes = _publish_and_listen({"KAFKA_BROKER": kafka_broker.url}, f"{unique}-node")

    # Then the listener read every change in version order, and the HTTP API agrees
    _assert_every_change_in_order_and_http_agrees(worker, published, changes)


async def test_node_services_through_the_schema_registry(
    start_worker: Callable[..., WorkerProcess],
    kafka_broker: BrokerAddress,
    schema_registry: str,
    unique: str,
) -> None:
    node_or_skip(MIN_NODE_MAJOR_WITH_REGISTRY)
    install_node_example()
    registry = {"SCHEMA_REGISTRY_URL": schema_registry}
    worker = start_worker(**registry, SHOPSTREAM_OUTPUT_FORMAT="confluent-json")
    worker.wait_ready()  # it has registered the contract's subjects

    # Given the listener and the order service, both with the registry configured
    prefix = f"{unique}-node-sr"
    published, changes = _publish_and_listen({"KAFKA_BROKER": kafka_broker.url, **registry}, prefix)

    # Then every change arrived in version order and the HTTP API agrees
    _assert_every_change_in_order_and_http_agrees(worker, published, changes)

    # And both directions were in the Confluent wire format (0x00, schema id, JSON)
    for topic in ("orders", "order-status"):
        records = await read_topic(
            kafka_broker.bootstrap,
            topic,
            key_prefix=f"{prefix}-",
            until=lambda records: len(records) >= ORDERS,
            timeout=30,
        )
        assert len(records) >= ORDERS, topic
        assert all(record["raw"][:1] == b"\x00" for record in records), topic
