"""Batches: the same rows and outcomes as record by record, and exact after a crash anywhere.

The agent applies a batch of records to :class:`BufferedRows` and then writes
each touched row once (:meth:`BufferedRows.flush_order`). A crash keeps any
prefix of those writes (batches flush one after the other); Kafka then
redelivers from any batch whose writes were all flushed or earlier, and the
redelivered records may be cut into batches differently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.analytics_apply import Outcome, Result, apply_click, apply_purchase
from domain.analytics_batch import BufferedRows
from domain.analytics_rows import PartitionKeys
from domain.analytics_windows import Watermark, WindowPolicy, epoch_minute
from domain.click_events import ClickEvent
from tests.unit.domain.analytics_support import DictRows
from tests.unit.domain.test_analytics_properties import _CRASH_MINUTES, Event, run, streams


@dataclass
class BatchRun:
    store: DictRows = field(default_factory=DictRows)
    results: list[Result] = field(default_factory=list)
    #: Write-log length after each batch, and the index of each batch's first record.
    flushed: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)


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
) -> BatchRun:
    """Apply ``records`` (read at ``offsets``) in batches of ``sizes``, flushing after each."""
    out = BatchRun(store=store or DictRows())
    policy = WindowPolicy()
    start = 0
    for size in sizes:
        rows = BufferedRows(out.store, 0)
        for record, offset in zip(
            records[start : start + size], offsets[start : start + size], strict=True
        ):
            if isinstance(record, ClickEvent):
                out.results.append(apply_click(rows, 0, offset, record, policy))
            else:
                out.results.append(apply_purchase(rows, 0, offset, record, policy))
        for key, value in rows.flush_order():
            if value is None:
                out.store.delete(key)
            else:
                out.store.put(key, value)
        out.starts.append(first + start)
        out.flushed.append(len(out.store.log))
        start += size
    return out


@settings(max_examples=200, deadline=None)
@given(records=streams(_CRASH_MINUTES), data=st.data())
def test_batches_store_the_rows_and_outcomes_of_one_record_at_a_time(
    records: list[Event], data: st.DataObject
) -> None:
    single = run(records)
    batched = run_batches(records, single.offsets, _cuts(data, len(records), "batch"))
    assert batched.store.rows == single.feed.store.rows
    assert [r.outcome for r in batched.results] == [r.outcome for r in single.results]


@settings(max_examples=400, deadline=None)
@given(records=streams(_CRASH_MINUTES), data=st.data())
def test_a_crash_during_any_flush_and_a_replay_in_other_batches_changes_nothing(
    records: list[Event], data: st.DataObject
) -> None:
    offsets = run(records).offsets
    reference = run_batches(records, offsets, _cuts(data, len(records), "batch"))
    crash_at = data.draw(st.integers(0, len(reference.store.log)), label="writes kept")
    # Offsets are committed only after a batch is flushed: a replay starts at
    # the first batch not wholly flushed, or at any earlier batch.
    unfinished = next(
        (b for b, end in enumerate(reference.flushed) if end > crash_at), len(reference.starts)
    )
    batch = data.draw(st.integers(0, unfinished), label="first redelivered batch")
    committed = reference.starts[batch] if batch < len(reference.starts) else len(records)

    crashed = DictRows.from_log(reference.store.log[:crash_at])
    rest = records[committed:]
    replay = run_batches(
        rest, offsets[committed:], _cuts(data, len(rest), "replay batch"), crashed, committed
    )

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
