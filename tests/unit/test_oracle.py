"""The replay oracle on tiny hand-made logs whose answers are worked out by hand.

The stream-replay test trusts :mod:`tests.replay.oracle` to say what the worker
must answer; these tests are why that trust is earned. Each case states the
rule of DESIGN.md it pins down.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from loadgen import SimEvent, write_jsonl
from tests.replay.oracle import Expectation, expect
from tests.replay.oracle_orders import FraudLimits, UnsupportedLog
from tests.replay.oracle_records import LogRecord, format_ms, parse_ms, read_log
from tests.replay.record_logs import LOGS

T0 = parse_ms("2025-01-01T10:00:00.000Z")
MIN = 60_000
LOOSE = FraudLimits(max_orders=100, max_amount=Decimal("1000000.00"))


def at(ms: int) -> str:
    return format_ms(T0 + ms)


def rec(topic: str, key: str | None, value: Any, kind: str = "") -> LogRecord:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return LogRecord(topic, key, raw, kind)


def created(
    order: str,
    t: int,
    *,
    customer: str = "c-1",
    total: str = "20.00",
    currency: str = "EUR",
    session: str | None = "s-1",
    items: list[tuple[str, int, str]] | None = None,
    event: str | None = None,
) -> LogRecord:
    lines = items or [("sku-1", 2, "10.00")]
    value = {
        "event_id": event or f"{order}-c",
        "type": "order_created",
        "order_id": order,
        "customer_id": customer,
        "session_id": session,
        "currency": currency,
        "total": total,
        "items": [
            {"sku": s, "category": "books", "quantity": q, "unit_price": p} for s, q, p in lines
        ],
        "occurred_at": at(t),
    }
    return rec("orders", order, value)


def event(topic: str, kind: str, order: str, t: int, name: str, **fields: Any) -> LogRecord:
    value = {"event_id": f"{order}-{name}", "type": kind, "order_id": order, **fields}
    return rec(topic, order, {**value, "occurred_at": at(t)})


def pay(
    order: str,
    t: int,
    kind: str = "authorized",
    *,
    amount: str = "20.00",
    payment: str | None = None,
    name: str | None = None,
) -> LogRecord:
    fields = {"payment_id": payment or f"{order}-p1", "amount": amount, "currency": "EUR"}
    return event("payments", f"payment_{kind}", order, t, name or kind, **fields)


def ship(order: str, t: int, kind: str = "dispatched", shipment: str = "sh-1") -> LogRecord:
    return event("shipments", f"shipment_{kind}", order, t, kind, shipment_id=shipment)


def cancel(order: str, t: int) -> LogRecord:
    return event("orders", "order_cancelled", order, t, "cancel", reason="customer_request")


def click(session: str, t: int, kind: str, sku: str | None = None, n: int = 0) -> LogRecord:
    value = {
        "event_id": f"{session}-{kind}-{t}-{n}",
        "type": kind,
        "session_id": session,
        "customer_id": None,
        "sku": sku,
        "category": None if sku is None else "books",
        "occurred_at": at(t),
    }
    return rec("clickstream", session, value)


def spoil(record: LogRecord, *, key: str | None = None, **changes: Any) -> LogRecord:
    """``record`` with some fields of its JSON replaced (and, optionally, another key)."""
    value = {**json.loads(record.value), **changes}
    return rec(record.topic, record.key if key is None else key, value)


def fold(*records: LogRecord, limits: FraudLimits = LOOSE) -> Expectation:
    return expect(list(records), limits)


# -- records --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "stage"),
    [
        (rec("payments", "o-1", b"\xff\xfe not json"), "decode"),
        (rec("orders", "o-1", b'{"event_id": "e'), "decode"),
        (rec("orders", "o-1", b'["e-1", "order_created"]'), "decode"),
        (spoil(pay("o-1", 0), amount=20.0), "validate"),  # money as a float
        (spoil(pay("o-1", 0), type="payment_x"), "validate"),
        (rec("orders", "o-1", json.loads(pay("o-1", 0).value)), "validate"),  # wrong topic
        (spoil(created("o-1", 0), key="o-2"), "validate"),  # keyed by another order
        (created("o-1", 0, total="21.00"), "validate"),  # the items sum to 20.00
        (spoil(click("s-1", 0, "search"), session_id=None), "validate"),
        (spoil(click("s-1", 0, "search"), occurred_at="2025-01-01T10:00:00"), "validate"),
        (spoil(ship("o-1", 0), event_id=""), "validate"),
    ],
)
def test_poison_is_a_dead_letter_of_its_stage(record: LogRecord, stage: str) -> None:
    expected = fold(record)
    assert [(d.source_topic, d.key, d.stage) for d in expected.dead_letters] == [
        (record.topic, record.key, stage)
    ]
    assert expected.orders == {} and expected.analytics.clicks == ()


def test_a_failed_payment_may_lack_its_amount_and_a_click_its_sku() -> None:
    failed = json.loads(pay("o-1", MIN, "failed").value)
    del failed["amount"], failed["currency"]
    expected = fold(created("o-1", 0), rec("payments", "o-1", failed), click("s-9", 0, "search"))
    assert expected.dead_letters == ()
    assert expected.orders["o-1"].status == "PAYMENT_FAILED"
    assert len(expected.analytics.clicks) == 1


# -- orders ---------------------------------------------------------------------------------


def test_arrival_order_and_duplicates_do_not_change_an_order() -> None:
    life = [
        created("o-1", 0),
        pay("o-1", MIN),
        ship("o-1", 2 * MIN),
        ship("o-1", 3 * MIN, "delivered"),
    ]
    forward = fold(*life)
    backward = fold(*reversed(life), life[1], life[0])
    assert forward.orders == backward.orders
    assert forward.orders["o-1"].view() == {
        "order_id": "o-1",
        "status": "DELIVERED",
        "customer_id": "c-1",
        "total": "20.00",
        "currency": "EUR",
        "paid_amount": "20.00",
    }
    assert backward.customers["c-1"]["orders"] == 1


@pytest.mark.parametrize(
    ("records", "status", "paid"),
    [
        ([created("o-1", 0)], "CREATED", "0.00"),
        ([created("o-1", 0), pay("o-1", 1, "failed", payment="p0")], "PAYMENT_FAILED", "0.00"),
        (
            [created("o-1", 0), pay("o-1", 1, "failed", payment="p0"), pay("o-1", 2)],
            "PAID",
            "20.00",
        ),
        ([created("o-1", 0), cancel("o-1", 1)], "CANCELLED", "0.00"),
        (
            [created("o-1", 0), pay("o-1", 1), cancel("o-1", 2), pay("o-1", 3, "refunded")],
            "REFUNDED",
            "20.00",
        ),
        ([created("o-1", 0), pay("o-1", 1), ship("o-1", 2)], "SHIPPED", "20.00"),
        # a delivery of a shipment never dispatched waits: the order stays PAID
        ([created("o-1", 0), pay("o-1", 1), ship("o-1", 2, "delivered")], "PAID", "20.00"),
        # the same payment authorized twice (new event id) holds the money once
        ([created("o-1", 0), pay("o-1", 1), pay("o-1", 2, name="again")], "PAID", "20.00"),
    ],
)
def test_the_strongest_fact_is_the_status(records: list[LogRecord], status: str, paid: str) -> None:
    order = fold(*records).orders["o-1"]
    assert (order.status, order.view()["paid_amount"]) == (status, paid)


def test_consistency_holds() -> None:
    mismatch = fold(created("o-1", 0), pay("o-1", 1, amount="19.99")).orders["o-1"]
    assert mismatch.status == "ON_HOLD" and mismatch.alerts == {"amount_mismatch"}
    parcel = fold(created("o-2", 0), pay("o-2", 1), cancel("o-2", 2), ship("o-2", 3)).orders
    assert parcel["o-2"].status == "ON_HOLD" and parcel["o-2"].alerts == {"shipment_after_cancel"}
    # a refund beats a hold
    refunded = fold(
        created("o-3", 0), pay("o-3", 1, amount="1.00"), pay("o-3", 2, "refunded", amount="1.00")
    )
    assert refunded.orders["o-3"].status == "REFUNDED"


def test_events_without_their_prerequisite_wait_and_count_nowhere() -> None:
    expected = fold(
        pay("o-ghost", 0),
        created("o-1", 0),
        ship("o-1", 1),  # no authorization: the shop does not ship unpaid orders
        pay("o-1", 2, "refunded", payment="p-unknown"),
    )
    assert expected.orders["o-1"].status == "CREATED"
    assert sorted(e.event_id for e in expected.waiting) == [
        "o-1-dispatched",
        "o-1-refunded",
        "o-ghost-authorized",
    ]
    assert "o-ghost" not in expected.orders and expected.dead_letters == ()


def test_two_creations_of_one_order_are_refused() -> None:
    with pytest.raises(UnsupportedLog):
        fold(created("o-1", 0), created("o-1", 1, event="other"))


# -- fraud and customers --------------------------------------------------------------------


def test_fraud_window_is_the_hour_up_to_and_including_the_order() -> None:
    limits = FraudLimits(max_orders=2, max_amount=Decimal("1000.00"))
    records = [
        created("o-1", 0),
        created("o-2", 30 * MIN),
        created("o-3", 60 * MIN),  # o-1 is exactly an hour earlier: outside o-3's window
        created("o-4", 61 * MIN),  # o-2, o-3, o-4 in (1:01 - 1h, 1:01]: three > two
        pay("o-4", 62 * MIN),
        pay("o-4", 63 * MIN, "refunded"),
    ]
    expected = fold(*records, limits=limits)
    assert expected.flagged == {"o-4"}
    assert expected.orders["o-4"].status == "REFUNDED"
    assert expected.orders["o-4"].alerts == {"fraud_velocity"}


def test_fraud_amount_counts_the_orders_currency_only() -> None:
    limits = FraudLimits(max_orders=10, max_amount=Decimal("30.00"))
    expected = fold(
        created("o-1", 0, currency="USD"),
        created("o-2", MIN),  # 20 EUR (the USD order does not count)
        created("o-3", 2 * MIN),  # 40 EUR > 30
        limits=limits,
    )
    assert expected.flagged == {"o-3"}
    assert expected.orders["o-3"].status == "ON_HOLD"


def test_customers_count_every_created_order() -> None:
    expected = fold(
        created("o-1", 5 * MIN),
        created("o-2", 0, total="0.10", items=[("sku-2", 1, "0.10")]),
        created("o-3", MIN, currency="USD"),
        cancel("o-1", 6 * MIN),
        created("o-4", 0, customer="c-2"),
    )
    assert expected.customers["c-1"] == {
        "customer_id": "c-1",
        "orders": 3,
        "revenue": {"EUR": "20.10", "USD": "20.00"},
        "last_order_at": "2025-01-01T10:05:00.000Z",
    }
    assert expected.customers["c-2"]["orders"] == 1


# -- analytics ------------------------------------------------------------------------------


def test_revenue_buckets_cover_until_minus_minutes_to_until() -> None:
    a = fold(
        created("o-1", -1),  # 09:59:59.999, before the range
        created("o-2", 0, currency="USD"),  # first instant of the range
        created("o-3", 30_000),
        created("o-4", MIN + 1),
        created("o-5", 2 * MIN),  # == until: outside
    ).analytics
    assert a.revenue(T0 + 2 * MIN, 2) == {
        "from": "2025-01-01T10:00:00.000Z",
        "until": "2025-01-01T10:02:00.000Z",
        "buckets": [
            {"start": at(0), "currency": "EUR", "revenue": "20.00", "orders": 1},
            {"start": at(0), "currency": "USD", "revenue": "20.00", "orders": 1},
            {"start": at(MIN), "currency": "EUR", "revenue": "20.00", "orders": 1},
        ],
    }


def test_top_products_rank_views_then_sku_and_purchases_are_units() -> None:
    expected = fold(
        click("s-1", 0, "product_view", "sku-9"),
        click("s-2", 0, "product_view", "sku-10"),
        click("s-2", 1, "product_view", "sku-2"),
        click("s-2", 2, "product_view", "sku-2"),
        click("s-2", 3, "add_to_cart", "sku-2"),
        click("s-3", 4, "add_to_cart", "sku-5"),  # never viewed in range
        created("o-1", 5, session="s-2", total="30.00", items=[("sku-2", 3, "10.00")]),
    )
    top = expected.analytics.top_products(2, T0 + MIN, 1)
    assert top["products"] == [
        {"sku": "sku-2", "views": 2, "add_to_cart": 1, "purchases": 3},
        {"sku": "sku-10", "views": 1, "add_to_cart": 0, "purchases": 0},  # "sku-10" < "sku-9"
    ]
    assert [p["sku"] for p in expected.analytics.top_products(9, T0 + MIN, 1)["products"]] == [
        "sku-2",
        "sku-10",
        "sku-9",
    ]
    with_unviewed = replace(expected.analytics, rank_unviewed=True)
    assert with_unviewed.top_products(9, T0 + MIN, 1)["products"][-1]["sku"] == "sku-5"


def test_funnel_counts_distinct_sessions_per_step() -> None:
    expected = fold(
        click("s-1", 0, "product_view", "sku-1"),
        click("s-1", 1, "product_view", "sku-2"),
        click("s-2", 2, "product_view", "sku-1"),
        click("s-2", 3, "add_to_cart", "sku-1"),
        click("s-2", 4, "checkout_started"),
        created("o-1", 5, session="s-2"),
        created("o-2", 6, session="s-9"),  # a purchase without views in range counts too
        click("s-3", 2 * MIN, "product_view", "sku-1"),  # outside
    )
    funnel = expected.analytics.funnel(T0 + MIN, 1)
    assert funnel["steps"] == [
        {"step": "product_view", "sessions": 2},
        {"step": "add_to_cart", "sessions": 1},
        {"step": "checkout_started", "sessions": 1},
        {"step": "purchase", "sessions": 2},
    ]
    assert funnel["conversion_rate"] == 1.0
    assert expected.analytics.funnel(T0 + 10 * MIN, 1)["conversion_rate"] == 0.0


def test_sessions_are_active_until_thirty_quiet_minutes() -> None:
    a = fold(
        click("s-1", 0, "page_view"),
        click("s-1", 90_000, "search"),  # s-1: 10:00:00 - 10:01:30
        click("s-2", 0, "page_view"),
        click("s-2", 40 * MIN, "page_view"),  # a 40-minute gap: a new session at 10:40
        click("s-2", 41 * MIN, "page_view"),
        click("s-3", 10 * MIN, "page_view"),  # exactly 30 minutes before 10:40: inactive
    ).analytics
    assert a.sessions(T0 + 2 * MIN) == {
        "until": at(2 * MIN),
        "active_sessions": 2,
        "average_duration_seconds": 45.0,  # (90 s + 0 s) / 2: s-3 and s-2's return come later
    }
    assert a.sessions(T0 + 40 * MIN)["active_sessions"] == 0
    assert a.sessions(T0 + 42 * MIN) == {
        "until": at(42 * MIN),
        "active_sessions": 1,
        "average_duration_seconds": 60.0,
    }


# -- the log files --------------------------------------------------------------------------


def test_read_log_gives_back_what_write_jsonl_recorded(tmp_path: Path) -> None:
    events = [
        SimEvent("orders", "o-1", created("o-1", 0).value),
        SimEvent("payments", "o-1", b"\xff\x00 poison", "malformed"),
        SimEvent("orders", "o-1", created("o-1", 0).value, "duplicate"),
    ]
    write_jsonl(events, tmp_path / "log.jsonl")
    records = read_log(tmp_path / "log.jsonl")
    assert [(r.topic, r.key, r.value, r.kind) for r in records] == [
        (e.topic, e.key, e.value, e.kind) for e in events
    ]
    expected = expect(records, LOOSE)
    assert expected.kind_disagreements == ()
    assert expected.dead_letters_by_topic() == {"payments": 1}
    mislabelled = expect([records[0], LogRecord("payments", "o-1", b"{}", "ok", 7)], LOOSE)
    assert mislabelled.kind_disagreements == (7,)


@pytest.mark.parametrize("spec", LOGS, ids=lambda spec: spec.name)
def test_recorded_logs_are_what_the_oracle_expects(spec: Any) -> None:
    expected = expect(read_log(spec.path), LOOSE)
    assert expected.kind_disagreements == ()
    assert expected.first_at == int(spec.start_time.timestamp() * 1000)
    assert expected.waiting == ()  # every event of the logs can apply
