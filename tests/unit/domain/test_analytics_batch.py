"""Batches: the same rows and outcomes as record by record, and exact after a crash anywhere.

The agent applies records to :class:`BufferedRows` held in memory (the
commit cache, :mod:`tables.commit_cache`) and writes each touched row once
(:meth:`BufferedRows.take_writes`): just before Faust commits, when the cache
holds too many rows, and as soon as a record moved the expiry horizon
(:attr:`BufferedRows.must_write`). Here a "batch" is the records between two
commits; the cap is drawn (small, so it bites), and the writes it forces fall
between any two records. A crash keeps any prefix of the writes (they reach
one changelog partition in order); Kafka then redelivers from any commit
whose writes were all flushed, or an earlier one, and the redelivered
records may be cut into batches (and capped) differently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.analytics_apply import Outcome, Result, apply_click, apply_purchase
from domain.analytics_batch import BufferedRows
from domain.analytics_partials import PartialKind
from domain.analytics_query import query_range
from domain.analytics_reads import partition_partial, partition_stats
from domain.analytics_rows import PartitionKeys
from domain.analytics_windows import Watermark, WindowPolicy, epoch_minute
from domain.click_events import ClickEvent
from tests.unit.domain.analytics_support import DictRows, at, click, examples
from tests.unit.domain.test_analytics_properties import _CRASH_MINUTES, Event, run, streams


@dataclass
class BatchRun:
    store: DictRows = field(default_factory=DictRows)
    results: list[Result] = field(default_factory=list)
    #: Write-log length after each batch, and the index of each batch's first record.
    flushed: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)


#: The cache's size cap: none, or a few rows (so that it forces writes mid-way).
_CAPS = st.none() | st.integers(1, 12)


def _cuts(data: st.DataObject, n: int, label: str) -> list[int]:
    """Sizes of consecutive batches covering ``n`` records."""
    sizes: list[int] = []
    while sum(sizes) < n:
        sizes.append(data.draw(st.integers(1, max(1, n - sum(sizes))), label=label))
    return sizes


def run_batches(
    records: list[Event],
    offsets: list[int],
    sizes: list[int],
    store: DictRows | None = None,
    first: int = 0,
    cap: int | None = None,
) -> BatchRun:
    """Apply ``records`` (read at ``offsets``) in batches of ``sizes``, writing as the agent does."""
    out = BatchRun(store=store or DictRows())
    policy = WindowPolicy()
    start = 0
    for size in sizes:
        rows = BufferedRows(out.store, 0, policy)
        for record, offset in zip(
            records[start : start + size], offsets[start : start + size], strict=True
        ):
            if isinstance(record, ClickEvent):
                out.results.append(apply_click(rows, 0, offset, record, policy))
            else:
                out.results.append(apply_purchase(rows, 0, offset, record, policy))
            if rows.must_write or (cap is not None and len(rows) >= cap):
                _write(out.store, rows)
        _write(out.store, rows)
        out.starts.append(first + start)
        out.flushed.append(len(out.store.log))
        start += size
    return out


def _write(store: DictRows, rows: BufferedRows) -> None:
    for key, value in rows.take_writes():
        if value is None:
            store.delete(key)
        else:
            store.put(key, value)


@settings(max_examples=examples(200), deadline=None)
@given(records=streams(_CRASH_MINUTES), data=st.data())
def test_batches_store_the_rows_and_outcomes_of_one_record_at_a_time(
    records: list[Event], data: st.DataObject
) -> None:
    single = run(records)
    sizes = _cuts(data, len(records), "batch")
    batched = run_batches(records, single.offsets, sizes, cap=data.draw(_CAPS, label="cap"))
    assert batched.store.rows == single.feed.store.rows
    assert [r.outcome for r in batched.results] == [r.outcome for r in single.results]


@settings(max_examples=examples(400), deadline=None)
@given(records=streams(_CRASH_MINUTES), data=st.data())
def test_a_crash_during_any_flush_and_a_replay_in_other_batches_changes_nothing(
    records: list[Event], data: st.DataObject
) -> None:
    offsets = run(records).offsets
    sizes = _cuts(data, len(records), "batch")
    reference = run_batches(records, offsets, sizes, cap=data.draw(_CAPS, label="cap"))
    crash_at = data.draw(st.integers(0, len(reference.store.log)), label="writes kept")
    # Offsets are committed only after a batch is flushed: a replay starts at
    # the first batch not wholly flushed, or at any earlier batch.
    unfinished = next(
        (b for b, end in enumerate(reference.flushed) if end > crash_at), len(reference.starts)
    )
    batch = data.draw(st.integers(0, unfinished), label="first redelivered batch")
    committed = reference.starts[batch] if batch < len(reference.starts) else len(records)
    replay_sizes = _cuts(data, len(records) - committed, "replay batch")
    replay_cap = data.draw(_CAPS, label="replay cap")
    _assert_replay_changes_nothing(
        records, offsets, reference, crash_at, committed, replay_sizes, replay_cap
    )


def _assert_replay_changes_nothing(
    records: list[Event],
    offsets: list[int],
    reference: BatchRun,
    crash_at: int,
    committed: int,
    replay_sizes: list[int],
    replay_cap: int | None = None,
) -> None:
    """Crash after ``crash_at`` writes, redeliver from record ``committed``: rows as without."""
    crashed = DictRows.from_log(reference.store.log[:crash_at])
    rest = records[committed:]
    replay = run_batches(rest, offsets[committed:], replay_sizes, crashed, committed, replay_cap)

    assert replay.store.rows == reference.store.rows
    expected_late = {
        i for i, r in enumerate(reference.results) if r.outcome is Outcome.LATE and i >= committed
    }
    replay_late = {committed + i for i, r in enumerate(replay.results) if r.outcome is Outcome.LATE}
    assert expected_late <= replay_late
    mark = Watermark.from_dict(replay.store.get(PartitionKeys(0).watermark()))
    horizon = WindowPolicy().horizon(mark)
    for extra in replay_late - expected_late:
        assert horizon is not None and epoch_minute(records[extra].occurred_at) < horizon


DAY = 24 * 60


def _every_crash_point(records: list[Event], sizes: list[int]) -> None:
    offsets = run(records).offsets
    reference = run_batches(records, offsets, sizes)
    for crash_at in range(len(reference.store.log) + 1):
        for batch, committed in enumerate(reference.starts):
            if batch > 0 and reference.flushed[batch - 1] > crash_at:
                continue  # the batch before was not wholly written: never committed
            _assert_replay_changes_nothing(
                records, offsets, reference, crash_at, committed, [len(records) - committed]
            )


def test_a_session_pruned_in_a_batch_never_gets_a_pruned_record_back() -> None:
    """The known case: the horizon moves, a later record of the batch prunes a session.

    Before the fix the session row (without ``e1``) reached the changelog
    before the watermark: a crash in between, and redelivered ``e1`` looked new.
    """
    _every_crash_point(
        [
            click("e1", "page_view", "s1", at(0)),
            click("e2", "page_view", "s2", at(DAY + 11)),
            click("e3", "page_view", "s1", at(DAY + 11)),
        ],
        [3],
    )


def test_a_session_expired_and_started_again_in_a_batch_never_revives_its_old_records() -> None:
    """The second case (seed 12): expiry deletes a session, a later record of the batch starts it anew.

    Before the fix the new row reached the changelog before the watermark;
    after a crash in between, redelivered ``e1`` found the new row without
    its id and behind no stored horizon: it was counted into the new session.
    """
    _every_crash_point(
        [
            click("e1", "page_view", "s5", at(0)),
            click("e2", "page_view", "s1", at(DAY + 11)),
            click("e3", "page_view", "s5", at(DAY + 11)),
        ],
        [3],
    )


@settings(max_examples=examples(100), deadline=None)
@given(
    records=streams(_CRASH_MINUTES),
    data=st.data(),
    kind=st.sampled_from(list(PartialKind)),
    until=st.sampled_from([m + 1 for m in _CRASH_MINUTES]),
    minutes=st.sampled_from([1, 5, 60, DAY]),
)
def test_reads_of_rows_not_written_yet_answer_as_the_written_rows(
    records: list[Event], data: st.DataObject, kind: PartialKind, until: int, minutes: int
) -> None:
    """The HTTP queries read a partition's pending rows (held as objects) before they are written."""
    offsets = run(records).offsets
    sizes = _cuts(data, len(records), "batch")
    written = run_batches(records[: -sizes[-1]], offsets[: -sizes[-1]], sizes[:-1])
    pending = BufferedRows(written.store, 0, WindowPolicy())
    for record, offset in zip(records[-sizes[-1] :], offsets[-sizes[-1] :], strict=True):
        if isinstance(record, ClickEvent):
            apply_click(pending, 0, offset, record, WindowPolicy())
        else:
            apply_purchase(pending, 0, offset, record, WindowPolicy())
    span = query_range(minutes, epoch_minute(at(until)))
    before = partition_partial(pending, 0, kind, span, WindowPolicy())
    stats = partition_stats(pending, 0)
    _write(written.store, pending)
    assert before == partition_partial(written.store, 0, kind, span, WindowPolicy())
    assert stats == partition_stats(written.store, 0)
