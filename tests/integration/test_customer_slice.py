"""The first vertical slice on a real broker: orders -> customers table -> HTTP.

Given a running worker, when order_created events (with a duplicate and a
poison record mixed in) are produced with aiokafka, then
``GET /customers/{id}`` converges to the exact count and revenue per currency.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.kafka_io import eventually, produce
from tests.support.worker_process import WorkerProcess


def order_created(unique: str, n: int, total: str, currency: str, minute: int) -> dict[str, Any]:
    return {
        "event_id": f"{unique}-e{n}",
        "type": "order_created",
        "order_id": f"{unique}-o{n}",
        "customer_id": f"{unique}-c1",
        "session_id": f"{unique}-s1",
        "currency": currency,
        "total": total,
        "items": [{"sku": "sku-1", "category": "books", "quantity": 1, "unit_price": total}],
        "occurred_at": f"2026-11-21T10:{minute:02d}:00.000Z",
        "some_future_field": "is tolerated",
    }


async def test_created_orders_reach_the_customer_endpoint_exactly(
    start_worker: Callable[..., WorkerProcess], kafka_bootstrap: str, unique: str
) -> None:
    # Given a ready worker
    worker = start_worker()
    seconds_to_ready = worker.wait_ready()
    print(f"worker start -> ready: {seconds_to_ready:.1f}s")

    # When three orders (two currencies), one duplicate and one poison record arrive
    orders = [
        order_created(unique, 1, "12.50", "EUR", 1),
        order_created(unique, 2, "0.10", "EUR", 2),
        order_created(unique, 3, "99.99", "USD", 3),
    ]
    records: list[tuple[str, str, Any]] = [("orders", o["order_id"], o) for o in orders]
    records.append(("orders", orders[0]["order_id"], orders[0]))
    records.append(("orders", f"{unique}-bad", b"{not json"))
    await produce(kafka_bootstrap, records)

    # Then the summary is exact, counted once per order
    expected = {
        "customer_id": f"{unique}-c1",
        "orders": 3,
        "revenue": {"EUR": "12.60", "USD": "99.99"},
        "last_order_at": "2026-11-21T10:03:00.000Z",
    }

    def summary_matches() -> Any:
        status, body = worker.get(f"/customers/{unique}-c1")
        return status == 200 and body == expected and body

    await eventually(summary_matches, timeout=60)
    status, body = worker.get(f"/customers/{unique}-nobody")
    assert status == 404 and "error" in body
