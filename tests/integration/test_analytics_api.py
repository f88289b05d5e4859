"""The analytics API on a real broker: exact answers, late events, bad parameters.

Given a worker, when a known set of clicks and orders (with a duplicate, a
poison record and a late click) is produced with fixed ``occurred_at`` times,
then every ``/analytics`` endpoint converges to exactly the answer DESIGN.md
defines, the late click is on ``dead-letters`` with reason ``late`` and is
counted in ``shopstream_late_events_total``, and bad parameters get a 400.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
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
)
from tests.support.kafka_io import produce, read_topic
from tests.support.worker_process import WorkerProcess


@pytest.fixture(scope="module")
def kafka_broker(kafka_broker: BrokerAddress) -> Iterator[BrokerAddress]:
    yield from own_broker(kafka_broker)


def _q(moment: datetime) -> str:
    return quote(format_time(moment), safe="")


def _answers(worker: WorkerProcess, paths: Iterable[str]) -> Callable[[], dict[str, Any]]:
    return lambda: {path: worker.get(path) for path in paths}


async def test_every_endpoint_answers_exactly(
    start_worker: Callable[..., WorkerProcess], kafka_broker: BrokerAddress, unique: str
) -> None:
    # Given a ready worker
    worker = start_worker()
    worker.wait_ready()
    base = fresh_base_time()

    def at(minutes: float) -> datetime:
        return base + timedelta(minutes=minutes)

    s1, s2, s3 = (f"{unique}-s{n}" for n in (1, 2, 3))
    sku1, sku2, sku3 = (f"{unique}-sku-{n}" for n in (1, 2, 3))
    # When clicks and orders arrive, one click twice and one poison record among them
    records: list[tuple[str, str, Any]] = [
        click(f"{unique}-e1", "product_view", s1, at(0.1), sku2),
        click(f"{unique}-e2", "product_view", s1, at(1), sku1),
        click(f"{unique}-e3", "add_to_cart", s1, at(2), sku1),
        click(f"{unique}-e4", "checkout_started", s1, at(3)),
        click(f"{unique}-e5", "product_view", s2, at(40), sku1),
        click(f"{unique}-e6", "product_view", s3, at(50), sku3),
        click(f"{unique}-e7", "search", s3, at(55)),
        order_created(f"{unique}-o1", s1, at(4), [(sku1, 3, "12.50")]),
        order_created(f"{unique}-o2", None, at(4.5), [(sku3, 1, "0.10")]),
        order_created(f"{unique}-o3", s2, at(41), [(sku1, 1, "9.99")], currency="USD"),
    ]
    records.append(records[1])  # the same event again: counted once
    records.append(("clickstream", s1, b'{"type": "product_view", "session_id": 7}'))
    await produce(kafka_broker.bootstrap, records)

    # Then every endpoint gives DESIGN.md's answer for [until - 60 min, until)
    until = at(60)
    bounds = {"from": format_time(at(0)), "until": format_time(until)}
    expected = {
        f"/analytics/revenue?minutes=60&until={_q(until)}": {
            **bounds,
            "buckets": [
                {"start": format_time(at(4)), "currency": "EUR", "revenue": "37.60", "orders": 2},
                {"start": format_time(at(41)), "currency": "USD", "revenue": "9.99", "orders": 1},
            ],
        },
        f"/analytics/top-products?n=10&minutes=60&until={_q(until)}": {
            **bounds,
            "products": [
                {"sku": sku1, "views": 2, "add_to_cart": 1, "purchases": 4},
                {"sku": sku2, "views": 1, "add_to_cart": 0, "purchases": 0},
                {"sku": sku3, "views": 1, "add_to_cart": 0, "purchases": 1},
            ],
        },
        f"/analytics/top-products?n=1&minutes=15&until={_q(until)}": {
            "from": format_time(at(45)),
            "until": format_time(until),
            "products": [{"sku": sku3, "views": 1, "add_to_cart": 0, "purchases": 0}],
        },
        f"/analytics/funnel?minutes=60&until={_q(until)}": {
            **bounds,
            "steps": [
                {"step": "product_view", "sessions": 3},
                {"step": "add_to_cart", "sessions": 1},
                {"step": "checkout_started", "sessions": 1},
                {"step": "purchase", "sessions": 2},
            ],
            "conversion_rate": 2 / 3,
        },
        # s1's last click (10:03) is 57 minutes before until; s2 (0 s) and s3 (300 s) are active
        f"/analytics/sessions?until={_q(until)}": {
            "until": format_time(until),
            "active_sessions": 2,
            "average_duration_seconds": 150.0,
        },
    }
    await converge(_answers(worker, expected), {p: (200, body) for p, body in expected.items()})

    # And the poison record is on dead-letters, stage validate
    letters = await read_topic(
        kafka_broker.bootstrap,
        "dead-letters",
        key_prefix=s1,
        until=lambda found: any(r["value"]["stage"] == "validate" for r in found),
        timeout=30,
    )
    assert any(r["value"]["source_topic"] == "clickstream" for r in letters)


async def test_a_late_click_is_dead_lettered_and_counted_not_lost(
    start_worker: Callable[..., WorkerProcess], kafka_broker: BrokerAddress, unique: str
) -> None:
    worker = start_worker()
    worker.wait_ready()
    base = fresh_base_time()
    session, sku = f"{unique}-late", f"{unique}-sku"
    # Given a partition whose event time reached base + 60 min
    await produce(
        kafka_broker.bootstrap,
        [click(f"{unique}-now", "product_view", session, base + timedelta(minutes=60), sku)],
    )
    # When a click of the same session arrives that occurred 11 minutes earlier (grace: 10)
    late = click(f"{unique}-late", "product_view", session, base + timedelta(minutes=49), sku)
    await produce(kafka_broker.bootstrap, [late])

    # Then it is on dead-letters with reason late, stage window, the original bytes kept
    letters = await read_topic(
        kafka_broker.bootstrap,
        "dead-letters",
        key_prefix=session,
        until=lambda found: any(r["value"]["error_type"] == "late" for r in found),
        timeout=60,
    )
    letter = next(r["value"] for r in letters if r["value"]["error_type"] == "late")
    assert letter["stage"] == "window" and letter["source_topic"] == "clickstream"
    assert letter["error"].startswith(
        f"late: occurred_at {format_time(base + timedelta(minutes=49))}"
    )
    assert "600s behind" in letter["error"]
    # And an event from a producer whose clock is days ahead is refused, not believed
    future = f"{unique}-future"
    ahead = datetime.now(UTC) + timedelta(days=3)
    await produce(kafka_broker.bootstrap, [click(f"{unique}-f", "page_view", future, ahead)])
    refused = await read_topic(
        kafka_broker.bootstrap,
        "dead-letters",
        key_prefix=future,
        until=lambda found: bool(found),
        timeout=60,
    )
    assert refused[0]["value"]["stage"] == "validate"
    assert refused[0]["value"]["error_type"] == "FromTheFuture"
    # And the late click is counted as late, not as a view
    status, metrics = worker.get("/metrics")
    assert status == 200 and 'shopstream_late_events_total{topic="clicks"} 1.0' in metrics
    # And every click handled, late and refused too, counts in /operations' events per second
    clicks_line = 'shopstream_events_processed_total{topic="clickstream"} '
    counted = next(line for line in metrics.splitlines() if line.startswith(clicks_line))
    assert float(counted.removeprefix(clicks_line)) >= 3  # the worker may have had other clicks
    until = _q(base + timedelta(minutes=61))
    status, body = worker.get(f"/analytics/top-products?minutes=61&until={until}")
    assert status == 200
    assert body["products"] == [{"sku": sku, "views": 1, "add_to_cart": 0, "purchases": 0}]


BAD_QUERIES = [
    ("/analytics/revenue?minutes=0", "minutes must be a whole number from 1 to 1440"),
    ("/analytics/revenue?minutes=1441", "minutes must be"),
    ("/analytics/funnel?minutes=abc", "minutes must be"),
    ("/analytics/top-products?n=-3", "n must be"),
    ("/analytics/top-products?n=1.5", "n must be"),
    ("/analytics/sessions?until=yesterday", "until is not ISO-8601"),
    ("/analytics/sessions?until=2026-11-21T10:00:00", "no timezone"),
    ("/analytics/revenue?until=2026-11-21T10:00:00%2B24:00", "until is not ISO-8601"),
    ("/analytics/revenue?until=2026-11-21", "until is not ISO-8601"),
    ("/internal/analytics/partials?kind=nope&start=1&end=2", "kind must be one of"),
    ("/internal/analytics/partials?kind=revenue&start=x&minutes=1", "epoch minute"),
    ("/internal/analytics/partials?kind=revenue&start=1&minutes=0", "minutes must be"),
]


def test_bad_parameters_get_a_400_with_the_reason(
    start_worker: Callable[..., WorkerProcess],
) -> None:
    worker = start_worker()
    worker.wait_ready()
    for query, message in BAD_QUERIES:
        status, body = worker.get(query)
        assert status == 400 and message in body["error"], (query, body)
    # defaults: the last 60 minutes up to now rounded up; an empty answer is still an answer
    status, body = worker.get("/analytics/revenue")
    assert status == 200 and body["buckets"] == [] and body["until"].endswith(":00.000Z")
