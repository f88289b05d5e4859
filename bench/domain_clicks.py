"""The analytics domain's CPU per click, alone: ``python -m bench.domain_clicks``.

No broker, no Faust, no JSON: the clickstream records of the throughput
benchmark (:func:`bench.events.clicks`) are decoded once up front, then timed
through what the analytics agent does per click apart from decoding
(:func:`domain.click_events.click_event_from_wire` and
:func:`domain.analytics_apply.apply_click` on the partition's
:class:`~domain.analytics_batch.BufferedRows`), over an in-memory base of 4
partitions. As in the worker, a partition's rows are written to the base
(``take_writes``) when its expiry horizon moves, and every partition's every
``--commit-every`` records (the batch size of the agent). Prints
microseconds per click, the median of ``--repeats`` runs, and a digest of
every write in order (the changelog the run makes), so that two versions of
the code can be checked to write the same bytes. The clicks end at a fixed
event time (:data:`END`), so the digest is the same from run to run.
"""

from __future__ import annotations

import argparse
import bisect
import gc
import hashlib
import json
import statistics
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from app.__main__ import tune_gc
from bench.events import clicks
from domain.analytics_apply import apply_click
from domain.analytics_batch import BufferedRows
from domain.analytics_windows import WindowPolicy
from domain.click_events import click_event_from_wire

__all__ = ["main", "run_once"]

PARTITIONS = 4
#: The event time the clicks end near: fixed, so that every run writes the same rows.
END = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


class MemoryRows:
    """One partition's stored rows: a dict, scanned in key order."""

    def __init__(self) -> None:
        self.rows: dict[bytes, dict[str, Any]] = {}
        #: Every write, in order (hashed after the run: the changelog it would make).
        self.flushes: list[Writes] = []
        self._sorted: list[bytes] | None = None

    def get(self, key: bytes) -> dict[str, Any] | None:
        return self.rows.get(key)

    def scan(self, start: bytes, stop: bytes) -> Iterator[tuple[bytes, dict[str, Any]]]:
        if self._sorted is None:
            self._sorted = sorted(self.rows)
        keys = self._sorted
        for key in keys[bisect.bisect_left(keys, start) : bisect.bisect_left(keys, stop)]:
            yield key, self.rows[key]

    def write(self, writes: Writes) -> None:
        self.flushes.append(writes)
        for key, value in writes:
            if value is None:
                self.rows.pop(key, None)
            else:
                self.rows[key] = value
        self._sorted = None


Record = tuple[int, int, bytes, dict[str, Any]]
Writes = list[tuple[bytes, dict[str, Any] | None]]


def _records(count: int, seed: int) -> list[Record]:
    """(partition, offset, key, decoded value) of each click, offsets per partition."""
    offsets = [0] * PARTITIONS
    records: list[Record] = []
    for event in clicks(count, seed, END):
        key = event.key.encode()
        partition = zlib.crc32(key) % PARTITIONS
        records.append((partition, offsets[partition], key, json.loads(event.value)))
        offsets[partition] += 1
    return records


def run_once(records: list[Record], commit_every: int) -> tuple[float, list[MemoryRows]]:
    """CPU seconds to apply ``records`` (writes included), and the partitions' final rows."""
    policy = WindowPolicy()
    gc.collect()
    tune_gc()  # as in the worker; the records and earlier runs' rows are frozen out of its way
    bases = [MemoryRows() for _ in range(PARTITIONS)]
    rows = [BufferedRows(base, partition, policy) for partition, base in enumerate(bases)]
    started = time.process_time()  # CPU time: the machine is shared
    for done, (partition, offset, key, value) in enumerate(records, 1):
        click = click_event_from_wire(value, key=key)
        buffered = rows[partition]
        apply_click(buffered, partition, offset, click, policy)
        if buffered.must_write:
            bases[partition].write(buffered.take_writes())
        if done % commit_every == 0:
            for base, pending in zip(bases, rows, strict=True):
                base.write(pending.take_writes())
    for base, pending in zip(bases, rows, strict=True):
        base.write(pending.take_writes())
    return time.process_time() - started, bases


def digest(bases: list[MemoryRows]) -> str:
    """A hash of every write of every partition, in order: the changelog the run makes."""
    hasher = hashlib.sha256()
    for base in bases:
        for writes in base.flushes:
            hasher.update(b"flush")
            for key, value in writes:
                hasher.update(key + json.dumps(value, sort_keys=True).encode())
    return hasher.hexdigest()[:16]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.domain_clicks", description=__doc__)
    parser.add_argument("--count", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--commit-every", type=int, default=2000)
    args = parser.parse_args(argv)
    records = _records(args.count, args.seed)
    timings: list[float] = []
    bases: list[MemoryRows] = []
    for _ in range(args.repeats):
        bases.clear()
        seconds, bases = run_once(records, args.commit_every)
        timings.append(seconds / len(records) * 1e6)
        print(f"  {timings[-1]:.2f} us/click")
    rows = sum(len(base.rows) for base in bases)
    writes = sum(len(w) for base in bases for w in base.flushes)
    print(
        f"domain per click: {statistics.median(timings):.2f} us (median of {args.repeats}, "
        f"{len(records)} clicks; {writes} writes, {rows} rows; changelog digest {digest(bases)})"
    )


if __name__ == "__main__":
    main()
