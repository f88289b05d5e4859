"""Global analytics: whichever worker is asked, the answer covers every partition.

Given two workers of one group, each owning part of the partitions, when
clicks and orders of sessions spread over all partitions are produced, then
both workers answer ``/analytics/top-products`` (and the funnel and revenue)
with the same exact global answer, which neither could give from its own
partitions alone; the workers share a cluster token, so their fan-out proves
it is sent, and the order-status counts of both are complete.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import orjson
import pytest

from app.cluster.token import CLUSTER_TOKEN_HEADER
from domain.timefmt import format_time
from tests.conftest import BrokerAddress
from tests.support.analytics_events import (
    click,
    converge,
    fresh_base_time,
    order_created,
    own_broker,
    sessions_per_partition,
)
from tests.support.kafka_io import eventually, produce
from tests.support.worker_process import WorkerProcess

CLUSTER_TOKEN = "two-workers-token-0123456789"


@pytest.fixture(scope="module")
def kafka_broker(kafka_broker: BrokerAddress) -> Iterator[BrokerAddress]:
    yield from own_broker(kafka_broker)


def _clicks_owned(worker: WorkerProcess) -> list[str]:
    status, body = worker.get("/ready")
    if status != 200:
        return []
    return [tp for tp in body.get("assigned_partitions", []) if tp.startswith("clickstream:")]


async def test_both_workers_give_the_same_global_top_products(
    start_worker: Callable[..., WorkerProcess], kafka_broker: BrokerAddress, unique: str
) -> None:
    # Given two workers in one group, each with part of the partitions
    token = {"SHOPSTREAM_CLUSTER_TOKEN": CLUSTER_TOKEN}
    first, second = start_worker("w1", **token), start_worker("w2", **token)
    first.wait_ready()
    second.wait_ready()
    await eventually(lambda: _clicks_owned(first) and _clicks_owned(second), timeout=60)

    # When sessions on every partition view products: sku-p gets p + 1 views on
    # partition p, and every session views sku-x once and buys two of it
    base = fresh_base_time()
    sessions = sessions_per_partition(f"{unique}-s")
    records: list[tuple[str, str, Any]] = []
    for p, session in enumerate(sessions):
        for n in range(p + 1):
            at = base + timedelta(minutes=p, seconds=n)
            records.append(
                click(f"{session}-v{n}", "product_view", session, at, f"{unique}-sku-{p}")
            )
        records.append(click(f"{session}-x", "product_view", session, base, f"{unique}-sku-x"))
        records.append(click(f"{session}-c", "add_to_cart", session, base, f"{unique}-sku-x"))
        order = order_created(
            f"{session}-o", session, base + timedelta(minutes=5), [(f"{unique}-sku-x", 2, "1.25")]
        )
        records.append(order)
    await produce(kafka_broker.bootstrap, records)

    # Then both workers answer with every partition's counts
    until = quote(format_time(base + timedelta(minutes=10)), safe="")
    expected_products = [
        {"sku": f"{unique}-sku-3", "views": 4, "add_to_cart": 0, "purchases": 0},
        {"sku": f"{unique}-sku-x", "views": 4, "add_to_cart": 4, "purchases": 8},
        {"sku": f"{unique}-sku-2", "views": 3, "add_to_cart": 0, "purchases": 0},
        {"sku": f"{unique}-sku-1", "views": 2, "add_to_cart": 0, "purchases": 0},
        {"sku": f"{unique}-sku-0", "views": 1, "add_to_cart": 0, "purchases": 0},
    ]
    top = f"/analytics/top-products?n=10&minutes=10&until={until}"
    funnel = f"/analytics/funnel?minutes=10&until={until}"
    revenue = f"/analytics/revenue?minutes=10&until={until}"

    expected_funnel = {
        "from": format_time(base),
        "until": format_time(base + timedelta(minutes=10)),
        "steps": [
            {"step": "product_view", "sessions": 4},
            {"step": "add_to_cart", "sessions": 4},
            {"step": "checkout_started", "sessions": 0},
            {"step": "purchase", "sessions": 4},
        ],
        "conversion_rate": 1.0,
    }
    expected_buckets = [
        {
            "start": format_time(base + timedelta(minutes=5)),
            "currency": "EUR",
            "revenue": "10.00",
            "orders": 4,
        }
    ]
    for worker in (first, second):

        def answers(w: WorkerProcess = worker) -> Any:
            return (w.get(top)[1]["products"], w.get(funnel)[1], w.get(revenue)[1]["buckets"])

        await converge(answers, (expected_products, expected_funnel, expected_buckets))

    # And neither worker alone holds all of it: each covers only its partitions
    # (internal paths: the group's token is required, the fan-out sends it)
    local = [_internal(w, "/internal/analytics/stats")["partitions"] for w in (first, second)]
    assert sorted(int(p) for stats in local for p in stats) == [0, 1, 2, 3]
    assert all(stats for stats in local)
    assert first.get("/internal/analytics/stats")[0] == 403
    for worker in (first, second):
        status, counts = worker.get("/analytics/order-status-counts")
        assert status == 200 and counts["complete"] is True, counts
        assert counts["partitions"]["counted"] == [0, 1, 2, 3]
        assert counts["unreachable_workers"] == []


def _internal(worker: WorkerProcess, path: str) -> Any:
    request = urllib.request.Request(
        f"{worker.base_url}{path}", headers={CLUSTER_TOKEN_HEADER: CLUSTER_TOKEN}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return orjson.loads(response.read())
