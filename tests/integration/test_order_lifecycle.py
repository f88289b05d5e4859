"""Every status path of an order, through a real worker on a real broker.

Given one worker (fraud limit: 2 orders per customer per hour), when scripted
lifecycles are produced — some out of order, some duplicated, with poison
records mixed in — then each order ends in its status, ``order-status`` holds
exactly one record per change in version order, alerts name the checks that
failed, and every poison record is on ``dead-letters`` with its reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from tests.support.kafka_io import produce, read_topic
from tests.support.shop_events import ShopScript
from tests.support.worker_process import WorkerProcess

EXPECTED_SEQUENCES = {
    "happy": ["CREATED", "PAID", "SHIPPED", "DELIVERED"],
    "retry-pay": ["CREATED", "PAYMENT_FAILED", "PAID"],
    "cancel": ["CREATED", "CANCELLED"],
    "refund": ["CREATED", "PAID", "CANCELLED", "REFUNDED"],
    "mismatch": ["CREATED", "ON_HOLD"],
    "reversed": ["CREATED", "PAID", "SHIPPED", "DELIVERED"],
    "fraud-1": ["CREATED"],
    "fraud-2": ["CREATED"],
    "fraud-3": ["CREATED", "ON_HOLD"],
}


def lifecycle_records(
    s: ShopScript,
) -> tuple[list[tuple[str, str, Any]], list[tuple[str, str, Any]], list[tuple[str, str, Any]]]:
    """The records to produce now, then the refund order's cancellation, then its refund.

    The refund order's payment travels on ``payments``, its cancellation and
    refund on ``orders`` and ``payments``: the shop sends each after the one
    before was applied, but two topics give no order between them (a worker
    fetching both partitions may apply a cancellation produced after the
    payment before it), so the test produces each once the previous one was
    applied, as the shop would.
    """
    happy = [
        s.created("happy"),
        s.payment("happy", "authorized"),
        s.shipment("happy", "dispatched"),
        s.shipment("happy", "delivered"),
    ]
    retry = [
        s.created("retry-pay"),
        s.payment("retry-pay", "failed", payment="p0"),
        s.payment("retry-pay", "authorized"),
    ]
    cancel = [s.created("cancel"), s.cancelled("cancel")]
    refund = [s.created("refund"), s.payment("refund", "authorized")]
    refund_after_payment = [s.cancelled("refund")]
    refund_after_cancellation = [s.payment("refund", "refunded")]
    mismatch = [
        s.created("mismatch", total="10.00"),
        s.payment("mismatch", "authorized", amount="9.00"),
    ]
    reversed_ = [
        s.created("reversed"),
        s.payment("reversed", "authorized"),
        s.shipment("reversed", "dispatched"),
        s.shipment("reversed", "delivered"),
    ]
    reversed_.reverse()  # delivery first, order last: each waits for its prerequisite
    fraud_customer = f"{s.prefix}-fraudster"
    fraud = [s.created(f"fraud-{n}", customer=fraud_customer) for n in (1, 2, 3)]
    poison: list[tuple[str, str, Any]] = [
        ("payments", f"{s.prefix}-poison-bytes", b"\xff\xfe not json"),
        (
            "shipments",
            f"{s.prefix}-poison-missing",
            {
                "event_id": f"{s.prefix}-px",
                "type": "shipment_dispatched",
                "order_id": f"{s.prefix}-poison-missing",
            },
        ),
        (
            "orders",
            f"{s.prefix}-poison-type",
            {
                "event_id": f"{s.prefix}-py",
                "type": "order_teleported",
                "order_id": f"{s.prefix}-poison-type",
                "occurred_at": "2026-11-21T10:00:00.000Z",
            },
        ),
        (
            "payments",
            f"{s.prefix}-poison-float",
            {**s.payment("poison-float", "authorized")[2], "amount": 37.5},
        ),
    ]
    duplicates = [happy[1], happy[2], refund[0]]
    first = [*happy, *retry, *cancel, *refund, *mismatch, *reversed_, *fraud, *poison, *duplicates]
    return first, refund_after_payment, refund_after_cancellation


def by_order(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        grouped[record["key"]].append(record["value"])
    return grouped


@pytest.fixture
def worker(start_worker: Callable[..., WorkerProcess]) -> WorkerProcess:
    w = start_worker(SHOPSTREAM_FRAUD_MAX_ORDERS_PER_HOUR="2")
    w.wait_ready()
    return w


async def test_every_status_path_with_disorder_duplicates_and_poison(
    worker: WorkerProcess, kafka_bootstrap: str, unique: str
) -> None:
    # Given scripted lifecycles, when they are produced (with poison and duplicates)
    script = ShopScript(unique)
    first, after_payment, after_cancellation = lifecycle_records(script)
    await produce(kafka_bootstrap, first)
    assert worker.get(f"/orders/{unique}-refund?wait_for=PAID&timeout=60")[0] == 200
    await produce(kafka_bootstrap, after_payment)
    assert worker.get(f"/orders/{unique}-refund?wait_for=CANCELLED&timeout=60")[0] == 200
    await produce(kafka_bootstrap, after_cancellation)

    # Then each order reaches its final status (the HTTP wait returns 200)
    for name, sequence in EXPECTED_SEQUENCES.items():
        status, body = worker.get(f"/orders/{unique}-{name}?wait_for={sequence[-1]}&timeout=60")
        assert status == 200, (name, body)
        assert body["status"] == sequence[-1], (name, body)
        assert [h["status"] for h in body["history"]] == sequence, (name, body)
        assert body["version"] == len(sequence)

    # And order-status holds exactly one record per change, in version order
    expected_count = sum(len(seq) for seq in EXPECTED_SEQUENCES.values())
    statuses = by_order(
        await read_topic(
            kafka_bootstrap,
            "order-status",
            key_prefix=f"{unique}-",
            until=lambda records: len(records) >= expected_count,
            timeout=30,
        )
    )
    for name, sequence in EXPECTED_SEQUENCES.items():
        changes = statuses[f"{unique}-{name}"]
        assert [c["status"] for c in changes] == sequence, name
        assert [c["version"] for c in changes] == list(range(1, len(sequence) + 1))
        assert [c["previous_status"] for c in changes] == [None, *sequence[:-1]]
    happy = statuses[f"{unique}-happy"]
    assert happy[1]["caused_by"] == f"{unique}-e2"  # the authorization's event_id

    # And the failed checks raised alerts
    alerts = await read_topic(
        kafka_bootstrap,
        "alerts",
        key_prefix=f"{unique}-",
        until=lambda records: len(records) >= 2,
        timeout=30,
    )
    kinds = {(a["key"], a["value"]["kind"]) for a in alerts}
    assert (f"{unique}-mismatch", "amount_mismatch") in kinds
    assert (f"{unique}-fraud-3", "fraud_velocity") in kinds

    # And every poison record is a dead letter with the original bytes and a reason
    letters = await read_topic(
        kafka_bootstrap,
        "dead-letters",
        key_prefix=f"{unique}-poison",
        until=lambda records: len(records) >= 4,
        timeout=30,
    )
    stages = {letter["key"]: letter["value"] for letter in letters}
    assert stages[f"{unique}-poison-bytes"]["stage"] == "decode"
    assert stages[f"{unique}-poison-missing"]["stage"] == "validate"
    assert stages[f"{unique}-poison-type"]["error_type"] == "UnknownEventType"
    assert (
        "string" in stages[f"{unique}-poison-float"]["error"]
        or "decimal" in stages[f"{unique}-poison-float"]["error"]
    )
    for letter in stages.values():
        assert letter["value_b64"] and letter["source_topic"] in ("orders", "payments", "shipments")

    # And the HTTP API answers bad requests with 4xx JSON errors
    assert worker.get(f"/orders/{unique}-nope")[0] == 404
    assert worker.get(f"/orders/{unique}-happy?wait_for=TELEPORTED")[0] == 400
    assert worker.get(f"/orders/{unique}-happy?wait_for=PAID&timeout=-1")[0] == 400
    status, body = worker.get(f"/orders/{unique}-cancel?wait_for=DELIVERED&timeout=1")
    assert status == 504 and "error" in body
    assert orjson.dumps(body)  # JSON all the way
