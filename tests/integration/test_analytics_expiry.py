"""Windows expire in event time, also after a restart, and the deletes reach the changelog.

Faust's windowed tables keep expiry in memory and never expire windows
restored after a restart (FAUST_NOTES.md); ShopStream's analytics keep the
partition watermark in the table itself. Given a worker that counted clicks
and orders at T0 and was then killed (SIGKILL), when a new worker process
starts on the same data directory and events at T0 + 25 h arrive on every
partition, then T0's windows are gone: the answer for a range covering T0 is
empty and the rows are deleted, also in the changelog (a third worker that
restores from the changelog alone holds none of them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest

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
from tests.support.kafka_io import produce
from tests.support.worker_process import WorkerProcess


@pytest.fixture(scope="module")
def kafka_broker(kafka_broker: BrokerAddress) -> Iterator[BrokerAddress]:
    yield from own_broker(kafka_broker)


def _rows(worker: WorkerProcess) -> dict[str, Any]:
    """Per kind of row: (count, oldest minute) over all partitions the worker holds."""
    status, body = worker.get("/internal/analytics/stats")
    if status != 200 or len(body["partitions"]) != 4 or None in body["partitions"].values():
        return {"unavailable": (status, body)}
    totals: dict[str, Any] = {}
    for stats in body["partitions"].values():
        for kind in ("products", "revenue", "index", "sessions", "orders"):
            count, oldest = totals.get(kind, (0, None))
            mine = stats[kind].get("oldest_minute")
            totals[kind] = (
                count + stats[kind]["rows"],
                min(filter(None, (oldest, mine)), default=None),
            )
    return totals


async def test_old_windows_expire_after_a_restart(
    start_worker: Callable[..., WorkerProcess], kafka_broker: BrokerAddress, unique: str
) -> None:
    t0 = fresh_base_time()
    later = t0 + timedelta(hours=25)
    label = format_time(t0)[:16]
    label_later = format_time(later)[:16]
    old = sessions_per_partition(f"{unique}-old")  # active at T0 only
    new = sessions_per_partition(f"{unique}-new")  # active at T0 + 25 h only
    sku = f"{unique}-sku"

    # Given a worker that counted views and an order at T0 on every partition
    worker = start_worker("w1")
    worker.wait_ready()
    records: list[tuple[str, str, Any]] = [click(f"{s}-v", "product_view", s, t0, sku) for s in old]
    records.append(order_created(f"{unique}-o1", old[0], t0, [(sku, 1, "5.00")]))
    await produce(kafka_broker.bootstrap, records)
    at_t0 = f"/analytics/top-products?minutes=60&until={quote(format_time(t0 + timedelta(hours=1)), safe='')}"
    counted = (200, [{"sku": sku, "views": 4, "add_to_cart": 0, "purchases": 1}])

    def top_at_t0(w: WorkerProcess = worker) -> Any:
        status, body = w.get(at_t0)
        return status, body.get("products") if status == 200 else body

    await converge(top_at_t0, counted)
    await converge(
        lambda: _rows(worker),
        {
            "products": (4, label),
            "revenue": (1, label),
            "index": (4, label),
            "sessions": (4, None),
            "orders": (0, None),
        },
    )

    # When it is killed (SIGKILL), a new process starts on the same data directory
    worker.kill()
    restarted = start_worker("w1")
    restarted.wait_ready()
    await converge(lambda: top_at_t0(restarted), counted)  # the restored windows are there

    # ...and event time moves on by 25 hours on every partition
    await produce(
        kafka_broker.bootstrap,
        [click(f"{s}-v", "product_view", s, later, sku) for s in new],
    )

    # Then T0's windows are gone, in the answers and in the table
    await converge(lambda: top_at_t0(restarted), (200, []))
    after = {
        "products": (4, label_later),
        "revenue": (0, None),
        "index": (4, label_later),
        "sessions": (4, None),
        "orders": (0, None),
    }
    await converge(lambda: _rows(restarted), after)

    # And the deletes are in the changelog: a worker restoring from it alone agrees
    restarted.stop()
    fresh = start_worker("w2")
    fresh.wait_ready()
    await converge(lambda: _rows(fresh), after)
    await converge(lambda: top_at_t0(fresh), (200, []))
