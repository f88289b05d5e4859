"""The Node.js example on ShopStream: a KafkaJS order service in, a KafkaJS listener out.

Given a real worker on the session broker, when the example's order service
(``examples/node/order-service.js``) publishes order lifecycles, then the
example's status listener reads every status change of every order, in version
order, and ``GET /orders/{id}`` tells the same history: what a Node.js team
copying the example gets. Skipped, in one line, without Node.js 20+ and npm.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import BrokerAddress
from tests.support.node_example import install_node_example, node_or_skip, node_process, run_node
from tests.support.worker_process import WorkerProcess

#: The status changes each of the example's lifecycles (src/shop-events.js) makes.
EXPECTED_STATUSES = {
    "delivered": ["CREATED", "PAID", "SHIPPED", "DELIVERED"],
    "payment-retry": ["CREATED", "PAYMENT_FAILED", "PAID"],
    "cancelled": ["CREATED", "CANCELLED"],
}
ORDERS = 9  # three of each lifecycle


@pytest.fixture(scope="module")
def node_example() -> None:
    node_or_skip()
    install_node_example()


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_node_services_and_shopstream_agree_on_every_status_change(
    node_example: None,
    start_worker: Callable[..., WorkerProcess],
    kafka_broker: BrokerAddress,
    unique: str,
) -> None:
    worker = start_worker()
    worker.wait_ready()
    env = {"KAFKA_BROKER": kafka_broker.url}
    prefix = f"{unique}-node"
    expected_changes = sum(
        len(EXPECTED_STATUSES[name]) for name in list(EXPECTED_STATUSES) * (ORDERS // 3)
    )

    # Given the Node.js status listener, reading order-status with a group of its own
    listener = node_process(
        "status-listener.js",
        [
            "--json",
            "--from-beginning",
            "--group",
            f"{prefix}-listener",
            "--key-prefix",
            f"{prefix}-",
            "--count",
            str(expected_changes),
            "--timeout-s",
            "45",
        ],
        env=env,
    )
    try:
        # When the Node.js order service publishes its lifecycles
        published = _json_lines(
            run_node(
                "order-service.js",
                ["--json", "--orders", str(ORDERS), "--prefix", prefix],
                env=env,
            )
        )
        stdout, stderr = listener.communicate(timeout=60)
    finally:
        if listener.poll() is None:
            listener.kill()
            listener.wait()
    assert listener.returncode == 0, stderr
    assert len(published) == ORDERS

    # Then the listener read every status change, each order's in version order
    changes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for change in _json_lines(stdout):
        changes[change["order_id"]].append(change)
    for order in published:
        expected = EXPECTED_STATUSES[order["lifecycle"]]
        seen = changes[order["order_id"]]
        assert [c["status"] for c in seen] == expected, (order, seen)
        assert [c["version"] for c in seen] == list(range(1, len(expected) + 1)), order
        assert [c["previous_status"] for c in seen] == [None, *expected[:-1]], order

        # And the HTTP API tells the same history
        status, body = worker.get(f"/orders/{order['order_id']}?wait_for={expected[-1]}&timeout=30")
        assert status == 200, body
        assert body["total"] == order["total"]  # a decimal string end to end
        assert body["version"] == len(expected)
        assert [(h["status"], h["version"], h["caused_by"]) for h in body["history"]] == [
            (c["status"], c["version"], c["caused_by"]) for c in seen
        ]
