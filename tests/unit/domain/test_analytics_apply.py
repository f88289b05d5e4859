"""Applying clicks and purchases: exact counts, de-duplication, replays, lateness, expiry."""

from __future__ import annotations

from decimal import Decimal

from domain.analytics_apply import EXPIRY_BATCH, Outcome
from domain.analytics_partials import PartialKind, ProductsPartial, RevenuePartial
from domain.analytics_query import query_range
from domain.analytics_reads import partition_partial, partition_stats
from domain.analytics_rows import PartitionKeys
from domain.analytics_windows import WindowPolicy, epoch_minute
from tests.unit.domain.analytics_support import DictRows, Feed, at, click, purchase

HOUR = 60


def _products(feed: Feed, start: float, minutes: int) -> ProductsPartial:
    span = query_range(minutes, epoch_minute(at(start)) + minutes)
    partial = partition_partial(feed.store, 0, PartialKind.PRODUCTS, span, feed.policy)
    assert isinstance(partial, ProductsPartial)
    return partial


def _revenue(feed: Feed, start: float, minutes: int) -> RevenuePartial:
    span = query_range(minutes, epoch_minute(at(start)) + minutes)
    partial = partition_partial(feed.store, 0, PartialKind.REVENUE, span, feed.policy)
    assert isinstance(partial, RevenuePartial)
    return partial


def test_views_carts_and_units_are_counted_per_sku() -> None:
    feed = Feed()
    feed.click(click("e1", "product_view", "s1", at(0), "sku-1"))
    feed.click(click("e2", "product_view", "s1", at(0, 30), "sku-1"))
    feed.click(click("e3", "add_to_cart", "s1", at(1), "sku-1"))
    feed.click(click("e4", "page_view", "s1", at(1)))
    feed.click(click("e5", "product_view", "s1", at(2)))  # no sku: funnel only
    feed.purchase(purchase("o1", "s1", at(3), items=(("sku-1", 2), ("sku-2", 1), ("sku-1", 1))))
    assert _products(feed, 0, 10).products == {"sku-1": (2, 1, 3), "sku-2": (0, 0, 1)}


def test_the_same_event_id_twice_counts_once() -> None:
    feed = Feed()
    event = click("e1", "product_view", "s1", at(0), "sku-1")
    assert feed.click(event).outcome is Outcome.APPLIED
    assert feed.click(event).outcome is Outcome.DUPLICATE
    order = purchase("o1", "s1", at(1))
    assert feed.purchase(order).outcome is Outcome.APPLIED
    assert feed.purchase(order).outcome is Outcome.DUPLICATE
    anonymous = purchase("o2", None, at(1), total="5.00")
    assert feed.purchase(anonymous).outcome is Outcome.APPLIED
    assert feed.purchase(anonymous).outcome is Outcome.DUPLICATE
    assert _products(feed, 0, 10).products == {"sku-1": (1, 0, 2)}
    assert _revenue(feed, 0, 10).buckets[(epoch_minute(at(1)), "EUR")] == (Decimal("15.00"), 2)


def test_a_redelivered_record_at_the_same_offset_is_a_replay_and_changes_nothing() -> None:
    feed = Feed()
    event = click("e1", "product_view", "s1", at(0), "sku-1")
    feed.click(event, offset=7)
    before = dict(feed.store.rows)
    assert feed.click(event, offset=7).outcome is Outcome.REPLAYED
    assert feed.store.rows == before


def test_a_crash_between_writes_is_completed_by_the_replay_not_doubled() -> None:
    feed = Feed()
    feed.purchase(purchase("o1", "s1", at(0), items=(("a", 1), ("b", 2))), offset=3)
    complete = dict(feed.store.rows)
    for cut in range(len(feed.store.log)):
        crashed = Feed(store=DictRows.from_log(feed.store.log[:cut]))
        crashed.purchase(purchase("o1", "s1", at(0), items=(("a", 1), ("b", 2))), offset=3)
        assert crashed.store.rows == complete, f"crash after write {cut}"


def test_an_event_beyond_the_grace_period_is_late_and_not_counted() -> None:
    feed = Feed(policy=WindowPolicy(grace_ms=10 * 60_000))
    feed.click(click("e1", "product_view", "s1", at(30), "sku-1"))
    on_time = feed.click(click("e2", "product_view", "s2", at(20), "sku-1"))
    late = feed.click(click("e3", "product_view", "s3", at(19, 59.999), "sku-1"))
    assert on_time.outcome is Outcome.APPLIED
    assert late.outcome is Outcome.LATE
    assert late.reason is not None and late.reason.startswith("late: occurred_at")
    assert "600s behind" in late.reason
    assert _products(feed, 0, 60).products == {"sku-1": (2, 0, 0)}


def test_purchases_are_judged_against_their_own_stream() -> None:
    # Orders reach analytics through the order pipeline and may trail the clicks.
    feed = Feed()
    feed.click(click("e1", "page_view", "s1", at(60)))
    assert feed.purchase(purchase("o1", "s1", at(5))).outcome is Outcome.APPLIED
    assert feed.purchase(purchase("o2", "s1", at(100))).outcome is Outcome.APPLIED
    assert feed.purchase(purchase("o3", "s1", at(80))).outcome is Outcome.LATE


def test_purchases_from_different_orders_partitions_interleave_freely() -> None:
    # The pipeline works through the orders partitions independently: on this
    # partition their purchases interleave; only each one's own order counts.
    feed = Feed()
    assert feed.purchase(purchase("o1", "s1", at(41), source=3)).outcome is Outcome.APPLIED
    assert feed.purchase(purchase("o2", None, at(4), source=1)).outcome is Outcome.APPLIED
    assert feed.purchase(purchase("o3", None, at(20), source=3)).outcome is Outcome.LATE
    assert _revenue(feed, 0, 60).buckets == {
        (epoch_minute(at(4)), "EUR"): (Decimal("10.00"), 1),
        (epoch_minute(at(41)), "EUR"): (Decimal("10.00"), 1),
    }


def test_windows_older_than_a_day_plus_grace_expire_with_event_time() -> None:
    feed = Feed()
    feed.click(click("e1", "product_view", "old", at(0), "sku-1"))
    feed.purchase(purchase("o1", "old", at(0)))
    feed.purchase(purchase("o2", None, at(0)))
    stats = partition_stats(feed.store, 0)
    assert stats["products"]["rows"] == 1 and stats["sessions"]["rows"] == 1
    # Just inside the horizon (24 h + 10 min): nothing goes.
    feed.click(click("e2", "page_view", "new", at(24 * HOUR + 10)))
    assert partition_stats(feed.store, 0)["products"]["rows"] == 1
    # One minute later the minute of T0 is behind the horizon: everything of it goes.
    feed.click(click("e3", "page_view", "new", at(24 * HOUR + 11)))
    stats = partition_stats(feed.store, 0)
    assert stats["products"]["rows"] == 0
    assert stats["revenue"]["rows"] == 0
    assert stats["sessions"]["rows"] == 1  # only "new"
    assert stats["orders"]["rows"] == 0
    assert stats["index"]["rows"] == 1
    assert stats["watermark"]["expired_before"] == "2026-11-21T10:01"


def test_an_expired_window_is_not_recreated_by_a_straggler() -> None:
    feed = Feed()
    feed.purchase(purchase("o1", None, at(0)))
    feed.click(click("e1", "page_view", "s", at(25 * HOUR)))
    result = feed.purchase(purchase("o2", None, at(1)))
    assert result.outcome is Outcome.LATE
    assert result.reason is not None and "expiry horizon" in result.reason
    assert partition_stats(feed.store, 0)["revenue"]["rows"] == 0


def test_queries_ignore_rows_behind_the_horizon_before_they_are_deleted() -> None:
    feed = Feed()
    for n in range(EXPIRY_BATCH + 5):
        feed.click(click(f"e{n}", "product_view", f"s{n}", at(0), f"sku-{n:05d}"))
    feed.click(click("late-mover", "page_view", "x", at(25 * HOUR)))
    # The first batch went; the rest waits for the next records, but is not answered.
    assert partition_stats(feed.store, 0)["products"]["rows"] > 0
    assert _products(feed, 0, 60).products == {}
    for n in range(3):
        feed.click(click(f"next{n}", "page_view", "x", at(25 * HOUR)))
    stats = partition_stats(feed.store, 0)
    assert stats["products"]["rows"] == 0 and stats["sessions"]["rows"] == 1


def test_a_session_row_forgets_minutes_behind_the_horizon() -> None:
    feed = Feed()
    feed.click(click("e1", "product_view", "s1", at(0), "sku-1"))
    feed.click(click("e2", "page_view", "s1", at(23 * HOUR)))
    feed.click(click("e3", "page_view", "s1", at(25 * HOUR)))
    # Pruning follows the stored watermark: the write after it moved prunes.
    feed.click(click("e4", "page_view", "s1", at(25 * HOUR)))
    stored = feed.store.get(PartitionKeys(0).owner("s", "s1"))
    assert stored is not None
    assert stored["steps"] == {}
    assert sorted(stored["seen"]) == ["e2", "e3", "e4"]
    assert [entry[0] for entry in stored["act"]] == [
        epoch_minute(at(23 * HOUR)),
        epoch_minute(at(25 * HOUR)),
    ]
