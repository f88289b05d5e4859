"""The answers of the analytics API, exactly as DESIGN.md shows them, from a small scenario."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.analytics_partials import (
    FunnelPartial,
    Partial,
    PartialKind,
    ProductsPartial,
    RevenuePartial,
    SessionsPartial,
    funnel_answer,
    partial_from_wire,
    partial_to_wire,
    revenue_answer,
    sessions_answer,
    top_products_answer,
)
from domain.analytics_query import QueryRange, query_range, session_range
from domain.analytics_reads import partition_partial
from domain.analytics_windows import epoch_minute
from tests.unit.domain.analytics_support import Feed, at, click, purchase

UNTIL = epoch_minute(at(60))
SPAN = query_range(60, UNTIL)


def scenario() -> Feed:
    feed = Feed()
    for event in [
        click("e1", "product_view", "s1", at(0, 5), "sku-2"),
        click("e2", "product_view", "s1", at(1), "sku-1"),
        click("e3", "add_to_cart", "s1", at(2), "sku-1"),
        click("e4", "checkout_started", "s1", at(3)),
        click("e5", "product_view", "s2", at(40), "sku-1"),
        click("e6", "product_view", "s3", at(50), "sku-3"),
        click("e7", "search", "s3", at(55)),
    ]:
        feed.click(event)
    feed.purchase(purchase("o1", "s1", at(4), "37.50", items=(("sku-1", 3),)))
    feed.purchase(purchase("o2", None, at(4, 30), "0.10"))
    feed.purchase(purchase("o3", "s2", at(41), "9.99", "USD", (("sku-1", 1),)))
    return feed


def partial(kind: PartialKind, span: QueryRange = SPAN) -> Any:
    return partition_partial(scenario().store, 0, kind, span, Feed().policy)


def test_revenue_buckets_per_minute_and_currency_oldest_first() -> None:
    answer = revenue_answer(SPAN, partial(PartialKind.REVENUE))
    assert answer == {
        "from": "2026-11-21T10:00:00.000Z",
        "until": "2026-11-21T11:00:00.000Z",
        "buckets": [
            {
                "start": "2026-11-21T10:04:00.000Z",
                "currency": "EUR",
                "revenue": "37.60",
                "orders": 2,
            },
            {
                "start": "2026-11-21T10:41:00.000Z",
                "currency": "USD",
                "revenue": "9.99",
                "orders": 1,
            },
        ],
    }


def test_top_products_by_views_then_sku_with_units_purchased() -> None:
    answer = top_products_answer(SPAN, partial(PartialKind.PRODUCTS), 10)
    assert answer["products"] == [
        {"sku": "sku-1", "views": 2, "add_to_cart": 1, "purchases": 5},
        {"sku": "sku-2", "views": 1, "add_to_cart": 0, "purchases": 0},
        {"sku": "sku-3", "views": 1, "add_to_cart": 0, "purchases": 0},
    ]
    assert (
        top_products_answer(SPAN, partial(PartialKind.PRODUCTS), 1)["products"][0]["sku"] == "sku-1"
    )
    # bought but not viewed in the range: not among the most viewed
    bought_only = ProductsPartial({"sku-9": (0, 1, 4), "sku-1": (1, 0, 0)})
    assert [p["sku"] for p in top_products_answer(SPAN, bought_only, 10)["products"]] == ["sku-1"]
    later = query_range(15, UNTIL)
    assert top_products_answer(later, partial(PartialKind.PRODUCTS, later), 10)["products"] == [
        {"sku": "sku-3", "views": 1, "add_to_cart": 0, "purchases": 0},
    ]


def test_funnel_counts_distinct_sessions_per_step() -> None:
    answer = funnel_answer(SPAN, partial(PartialKind.FUNNEL))
    assert answer == {
        "from": "2026-11-21T10:00:00.000Z",
        "until": "2026-11-21T11:00:00.000Z",
        "steps": [
            {"step": "product_view", "sessions": 3},
            {"step": "add_to_cart", "sessions": 1},
            {"step": "checkout_started", "sessions": 1},
            {"step": "purchase", "sessions": 2},
        ],
        "conversion_rate": 2 / 3,
    }
    empty = query_range(5, epoch_minute(at(30)))
    assert funnel_answer(empty, partial(PartialKind.FUNNEL, empty))["conversion_rate"] == 0.0


def test_sessions_active_at_until_and_their_mean_length() -> None:
    span = session_range(UNTIL)
    answer = sessions_answer(span, partial(PartialKind.SESSIONS, span))
    # s1 ended at 10:03 (57 min before until); s2 (one click at 10:40, 0 s) and
    # s3 (10:50 -> 10:55, 300 s) are active.
    assert answer == {
        "until": "2026-11-21T11:00:00.000Z",
        "active_sessions": 2,
        "average_duration_seconds": 150.0,
    }
    assert sessions_answer(span, SessionsPartial())["average_duration_seconds"] == 0.0


def test_partials_survive_the_trip_between_workers() -> None:
    cases: list[tuple[PartialKind, Partial]] = [
        (PartialKind.REVENUE, RevenuePartial({(5, "EUR"): (Decimal("1.10"), 2)})),
        (PartialKind.PRODUCTS, ProductsPartial({"a|b": (1, 2, 3)})),
        (PartialKind.FUNNEL, FunnelPartial({"purchase": 4})),
        (PartialKind.SESSIONS, SessionsPartial(3, 9000)),
    ]
    for kind, value in cases:
        assert partial_from_wire(kind, partial_to_wire(value)) == value
