"""Record (or check) the event logs the stream-replay test replays.

    python -m tests.replay.record_logs           # rewrite tests/replay/logs/*.jsonl.gz
    python -m tests.replay.record_logs --check   # do the stored logs still match the generator?

Each log is what ``shopstream simulate`` writes with ``--jsonl`` for the
options in :data:`LOGS`, e.g. for the first one::

    shopstream simulate --count 2000 --seed 5118 --rate 20 \\
        --start-time 2025-03-01T10:00:00.000Z \\
        --duplicates 0.03 --out-of-order 0.05 --malformed 0.02 --jsonl replay-1.jsonl

That command also produces to Kafka, so this script calls the same generator
(:func:`loadgen.generate_events`) and writer (:func:`loadgen.write_jsonl`)
without a broker, then gzips the file (fixed header, so the bytes are
reproducible): the JSONL repeats every value as base64, and compressed the
two logs take about 200 KB instead of 1.6 MB.

Why these options:

* **Seeds 5118 and 5206** are used by no other test, and ids carry the seed
  (``o-5118-…``), so the replay's orders collide with nobody's. Among nearby
  seeds they give every final status at least once (PAYMENT_FAILED is rare),
  fraud flags of which one is later refunded, payments that arrive before
  their order, and duplicated ``order_created`` events.
* **Event time in 2025**, far from the 2026 times and the wall-clock times
  other tests use, and the two logs four hours apart on one day: their
  analytics ranges and fraud hours do not overlap, and neither log is old
  enough (24 h) to have expired from the analytics when the other is replayed.
* **Short spans** (about 95 s and 410 s of event time): shorter than the
  analytics grace period (10 min), so no interleaving of partitions during
  the replay can make a record "late"; lateness is not what this test is for.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from loadgen import SimulationOptions, generate_events, write_jsonl

__all__ = ["LOGS", "LOG_DIR", "LogSpec", "record"]

LOG_DIR = Path(__file__).parent / "logs"


@dataclass(frozen=True, slots=True)
class LogSpec:
    """One recorded log: its file name and the ``shopstream simulate`` options behind it."""

    name: str
    seed: int
    count: int
    rate: float
    start_time: datetime
    duplicates: float
    out_of_order: float
    malformed: float

    @property
    def path(self) -> Path:
        return LOG_DIR / f"{self.name}.jsonl.gz"

    def options(self) -> SimulationOptions:
        return SimulationOptions(
            count=self.count,
            seed=self.seed,
            rate=self.rate,
            start_time=self.start_time,
            fraction_duplicates=self.duplicates,
            fraction_out_of_order=self.out_of_order,
            fraction_malformed=self.malformed,
        )


LOGS = (
    LogSpec(
        name="replay-1",
        seed=5118,
        count=2000,
        rate=20.0,
        start_time=datetime(2025, 3, 1, 10, 0, tzinfo=UTC),
        duplicates=0.03,
        out_of_order=0.05,
        malformed=0.02,
    ),
    LogSpec(
        name="replay-2",
        seed=5206,
        count=1800,
        rate=4.0,
        start_time=datetime(2025, 3, 1, 14, 0, tzinfo=UTC),
        duplicates=0.05,
        out_of_order=0.10,
        malformed=0.04,
    ),
)


def record(spec: LogSpec) -> bytes:
    """The gzipped JSONL of ``spec``, exactly as ``write_jsonl`` writes it."""
    with tempfile.TemporaryDirectory() as scratch:
        jsonl = Path(scratch) / f"{spec.name}.jsonl"
        write_jsonl(generate_events(spec.options()), jsonl)
        return gzip.compress(jsonl.read_bytes(), compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    stale = 0
    for spec in LOGS:
        data = record(spec)
        if args.check:
            same = spec.path.exists() and spec.path.read_bytes() == data
            stale += not same
            print(f"{spec.path.name}: {'matches the generator' if same else 'DIFFERS'}")
        else:
            LOG_DIR.mkdir(exist_ok=True)
            spec.path.write_bytes(data)
            print(f"wrote {spec.path} ({len(data)} bytes)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
