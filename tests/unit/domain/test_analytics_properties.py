"""Properties of the analytics engine: crash/replay exactness and partition independence.

* Crash anywhere: a worker dies after any prefix of its writes (the changelog
  of one partition keeps writes in order, so a crash loses a suffix); Kafka
  redelivers from any earlier committed record. The rows end up exactly as
  without the crash, and the same records are dead-lettered as late (a record
  may in addition be declared late when its window expired meanwhile).
* Partition independence: the merged partials of any split of sessions over
  partitions equal the answer of one partition holding everything.
* Partials form a commutative monoid.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.analytics_apply import Outcome, Result
from domain.analytics_partials import (
    FunnelPartial,
    Partial,
    PartialKind,
    ProductsPartial,
    RevenuePartial,
    SessionsPartial,
    merge_partials,
)
from domain.analytics_query import query_range
from domain.analytics_reads import partition_partial
from domain.analytics_rows import PartitionKeys
from domain.analytics_windows import Watermark, epoch_minute
from domain.click_events import ClickEvent, ClickType
from domain.session_purchase import SessionPurchase
from tests.unit.domain.analytics_support import DictRows, Feed, at, click, examples, purchase

Event = ClickEvent | SessionPurchase


@st.composite
def events(draw: st.DrawFn, minutes: Sequence[float]) -> Event:
    when = at(draw(st.sampled_from(minutes)), draw(st.integers(0, 59)))
    session = draw(st.sampled_from(["s1", "s2", "s3", "s4", "s5"]))
    if draw(st.integers(0, 4)) == 0:
        n = draw(st.integers(0, 30))
        items = tuple(
            draw(
                st.lists(
                    st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(1, 3)),
                    min_size=1,
                    max_size=3,
                )
            )
        )
        return purchase(
            f"o{n}",
            None if n % 4 == 0 else session,
            when,
            total=f"{draw(st.integers(1, 9999)) / 100:.2f}",
            currency=draw(st.sampled_from(["EUR", "USD"])),
            items=items,
            source=draw(st.integers(0, 2)),
        )
    kind = draw(st.sampled_from(list(ClickType)))
    sku = draw(st.sampled_from([None, "a", "b", "c"]))
    return click(f"e{draw(st.integers(0, 10**6))}", kind, session, when, sku)


def _distinct_ids(pool: list[Event]) -> list[Event]:
    """One id per distinct event: the same id always means the same event (DESIGN.md)."""
    return [
        e._replace(event_id=f"e{i}") if isinstance(e, ClickEvent) else replace(e, order_id=f"o{i}")
        for i, e in enumerate(pool)
    ]


def streams(minutes: Sequence[float]) -> st.SearchStrategy[list[Event]]:
    """Event sequences with exact duplicates mixed in (same event, later offset)."""
    return (
        st.lists(events(minutes), min_size=1, max_size=25)
        .map(_distinct_ids)
        .flatmap(lambda pool: st.lists(st.sampled_from(pool), min_size=1, max_size=40))
    )


@dataclass
class Run:
    feed: Feed
    offsets: list[int]
    results: list[Result]
    ends: list[int]  # write-log length after each record


def run(records: list[Event], feed: Feed | None = None, offsets: list[int] | None = None) -> Run:
    feed = feed or Feed()
    assigned, results, ends = [], [], []
    for index, record in enumerate(records):
        offset = None if offsets is None else offsets[index]
        if isinstance(record, ClickEvent):
            offset = feed.click_offset if offset is None else offset
            feed.click_offset = max(feed.click_offset, offset + 1)
            results.append(feed.click(record, offset=offset))
        else:
            offset = feed.purchase_offset if offset is None else offset
            feed.purchase_offset = max(feed.purchase_offset, offset + 1)
            results.append(feed.purchase(record, offset=offset))
        assigned.append(offset)
        ends.append(len(feed.store.log))
    return Run(feed, assigned, results, ends)


def _late(results: list[Result], start: int = 0) -> set[int]:
    return {start + i for i, r in enumerate(results) if r.outcome is Outcome.LATE}


_CRASH_MINUTES = [0, 1, 2, 5, 9, 15, 30, 31, 24 * 60 + 11, 25 * 60, 25 * 60 + 3]


@settings(max_examples=examples(300), deadline=None)
@given(records=streams(_CRASH_MINUTES), data=st.data())
def test_a_crash_after_any_write_and_a_replay_from_any_commit_changes_nothing(
    records: list[Event], data: st.DataObject
) -> None:
    reference = run(records)
    crash_at = data.draw(st.integers(0, len(reference.feed.store.log)), label="writes kept")
    unfinished = next((i for i, end in enumerate(reference.ends) if end > crash_at), len(records))
    committed = data.draw(st.integers(0, unfinished), label="first redelivered record")

    crashed = Feed(store=DictRows.from_log(reference.feed.store.log[:crash_at]))
    replay = run(records[committed:], crashed, reference.offsets[committed:])

    assert replay.feed.store.rows == reference.feed.store.rows
    expected_late = {i for i in _late(reference.results) if i >= committed}
    replay_late = _late(replay.results, committed)
    assert expected_late <= replay_late
    mark = Watermark.from_dict(replay.feed.store.get(PartitionKeys(0).watermark()))
    horizon = replay.feed.policy.horizon(mark)
    for extra in replay_late - expected_late:
        assert horizon is not None and epoch_minute(records[extra].occurred_at) < horizon


def _partition_of(record: Event, partitions: int) -> int:
    key = record.session_id if isinstance(record, ClickEvent) else record.key
    return zlib.crc32(key.encode()) % partitions


def _partials(feed: Feed, kind: PartialKind, until: datetime, minutes: int) -> Partial:
    span = query_range(minutes, epoch_minute(until))
    return partition_partial(feed.store, feed.partition, kind, span, feed.policy)


@settings(max_examples=150, deadline=None)
@given(
    records=streams([0, 1, 2, 3, 5, 8]),
    partitions=st.integers(1, 4),
    kind=st.sampled_from(list(PartialKind)),
    until=st.integers(1, 12),
    minutes=st.integers(1, 12),
)
def test_any_split_over_partitions_merges_to_the_single_partition_answer(
    records: list[Event], partitions: int, kind: PartialKind, until: int, minutes: int
) -> None:
    whole = run(records).feed
    feeds = [Feed(partition=p) for p in range(partitions)]
    for record in records:
        run([record], feeds[_partition_of(record, partitions)])
    merged = merge_partials(kind, [_partials(f, kind, at(until), minutes) for f in feeds])
    assert merged == merge_partials(kind, [_partials(whole, kind, at(until), minutes)])


def partials(kind: PartialKind) -> st.SearchStrategy[Partial]:
    counts = st.integers(0, 50)
    if kind is PartialKind.REVENUE:
        key = st.tuples(st.integers(0, 5), st.sampled_from(["EUR", "USD"]))
        money = st.integers(0, 10**6).map(lambda cents: Decimal(cents) / 100)
        return st.dictionaries(key, st.tuples(money, counts), max_size=6).map(RevenuePartial)
    if kind is PartialKind.PRODUCTS:
        skus = st.sampled_from(["a", "b", "c", "d"])
        return st.dictionaries(skus, st.tuples(counts, counts, counts), max_size=4).map(
            ProductsPartial
        )
    if kind is PartialKind.FUNNEL:
        steps = st.sampled_from(["product_view", "add_to_cart", "checkout_started", "purchase"])
        return st.dictionaries(steps, counts).map(FunnelPartial)
    return st.builds(SessionsPartial, counts, st.integers(0, 10**9))


@given(data=st.data(), kind=st.sampled_from(list(PartialKind)))
def test_partials_merge_associatively_and_commutatively(
    data: st.DataObject, kind: PartialKind
) -> None:
    a, b, c = (data.draw(partials(kind)) for _ in range(3))

    def merge(*parts: Partial) -> Partial:
        return merge_partials(kind, parts)

    assert merge(a, merge(b, c)) == merge(merge(a, b), c)
    assert merge(a, b) == merge(b, a)
    assert merge(a) == merge(a, merge())
