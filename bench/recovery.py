"""Benchmarks 4 and 5: changelog recovery, and worker memory against keys and partitions.

The table is ``customers`` (keyed by ``customer_id``): its changelog topic
``{app_id}-customers-changelog`` is filled directly with K summaries in the
shape the worker writes (one order each), which is much faster than feeding
K orders through the pipeline and restores exactly the same way.

Per key count K (recovery, 4 partitions, ShopStream's RocksDB options):

* **wiped**: a worker with an empty data directory restores K records;
  time from process start to ``/ready`` 200, and restore records/s (K over
  the seconds between Faust's "Restoring state from changelog topics" and
  "Done reading from changelog topics" log lines);
* **kept**: the same worker stopped (SIGTERM) and started again on its
  RocksDB: time to ready.

Memory: the RSS of the worker once ready (and after 1,000 lookups), with
ShopStream's options (``tables/options.py``) and with Faust's defaults
(``bench.faust_default_worker``), against K, and against the partition count.
"""

from __future__ import annotations

import asyncio
import random
import shutil
from collections.abc import Iterator

from bench.harness import Harness
from bench.kafka import create_topics, preload
from bench.report import Row
from bench.stats import summarize
from bench.workers import BenchWorker

__all__ = ["customer_records", "run_memory", "run_recovery"]

TABLE = "customers"
OPTIONS = {"ShopStream options": "app", "Faust default options": "bench.faust_default_worker"}
LOOKUPS = 1000
MIB = 2**20


def customer_records(app_id: str, keys: int) -> Iterator[tuple[str, bytes | None, bytes]]:
    """Changelog records of ``keys`` customers, as ``agents.customers`` writes them."""
    topic = f"{app_id}-{TABLE}-changelog"
    for i in range(keys):
        customer = f"c-bench-{i}"
        value = (
            b'{"customer_id":"%s","orders":1,"revenue":{"EUR":"25.00"},'
            b'"last_order_at":"2026-11-21T10:00:00.000Z","counted_orders":["o-bench-%d"]}'
            % (customer.encode(), i)
        )
        yield topic, customer.encode(), value


async def _fill(h: Harness, app_id: str, keys: int, partitions: int) -> None:
    await h.fresh_topics(partitions)
    await create_topics(h.bootstrap, [f"{app_id}-{TABLE}-changelog"], partitions, compact=True)
    count = await preload(h.bootstrap, customer_records(app_id, keys))
    h.log(f"changelog of {app_id} filled with {count} customers")


def _lookups(worker: BenchWorker, keys: int) -> None:
    """Read random customers: checks the restore was real and warms the block cache."""
    rng = random.Random(keys)
    for _ in range(LOOKUPS):
        status, body = worker.get(f"/customers/c-bench-{rng.randrange(keys)}", timeout=30)
        if status != 200 or body.get("orders") != 1:
            raise AssertionError(f"restored customer missing: {status} {body!r}")


async def _start(worker: BenchWorker) -> tuple[float, float | None, int]:
    """Start; (seconds to ready, restore seconds from the log, RSS at ready)."""
    worker.start()
    ready = await asyncio.to_thread(worker.seconds_to_ready, 1800.0)
    return ready, worker.recovery().restore_seconds, worker.rss_bytes()


def _wipe(worker: BenchWorker) -> None:
    shutil.rmtree(worker.datadir, ignore_errors=True)


class _Collector:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str, str, str], list[float]] = {}

    def add(self, bench: str, case: str, metric: str, unit: str, value: float | None) -> None:
        self.values.setdefault((bench, case, metric, unit), [])
        if value is not None:
            self.values[(bench, case, metric, unit)].append(value)

    def rows(self) -> list[Row]:
        return [Row(b, c, m, u, summarize(v)) for (b, c, m, u), v in self.values.items()]


async def _recovery_once(h: Harness, keys: int, out: _Collector) -> None:
    app_id = h.new_app_id(f"recovery{keys}")
    await _fill(h, app_id, keys, h.config.partitions)
    worker = h.worker(app_id)
    case = f"{keys:,} keys"
    try:
        ready, restore, _ = await _start(worker)
        await asyncio.to_thread(_lookups, worker, keys)
        out.add("recovery", f"{case}, datadir wiped", "time to ready", "s", ready)
        out.add("recovery", f"{case}, datadir wiped", "restore time", "s", restore)
        out.add(
            "recovery",
            f"{case}, datadir wiped",
            "restore rate",
            "records/s",
            keys / restore if restore else None,
        )
        worker.stop()
        ready, restore, _ = await _start(worker)
        await asyncio.to_thread(_lookups, worker, keys)
        out.add("recovery", f"{case}, RocksDB kept", "time to ready", "s", ready)
        out.add("recovery", f"{case}, RocksDB kept", "restore time", "s", restore)
        h.log(f"recovery {case}: done")
    finally:
        worker.stop()
        h.cleanup(app_id)


async def _memory_once(h: Harness, keys: int, partitions: int, out: _Collector) -> None:
    app_id = h.new_app_id(f"memory{keys}p{partitions}")
    await _fill(h, app_id, keys, partitions)
    for label, module in OPTIONS.items():
        worker = h.worker(
            app_id, module=module, partitions=partitions, name=module.replace(".", "-")
        )
        try:
            _, restore, rss = await _start(worker)
            await asyncio.to_thread(_lookups, worker, keys)
            case = f"{keys:,} keys, {partitions} partitions, {label}"
            out.add("memory", case, "RSS at ready", "MiB", rss / MIB)
            out.add("memory", case, f"RSS after {LOOKUPS} lookups", "MiB", worker.rss_bytes() / MIB)
            out.add("memory", case, "restore time", "s", restore)
            h.log(f"memory {case}: {rss / MIB:.0f} MiB")
        finally:
            worker.stop()
            _wipe(worker)
    h.cleanup(app_id)


async def run_recovery(h: Harness) -> list[Row]:
    out = _Collector()
    for rep in range(h.config.repeats):
        for keys in h.config.keys:
            h.log(f"recovery repeat {rep + 1}/{h.config.repeats}, {keys:,} keys")
            await _recovery_once(h, keys, out)
    return out.rows()


async def run_memory(h: Harness) -> list[Row]:
    """Both option sets at every key count (default partitions), then across partition counts."""
    out = _Collector()
    cfg = h.config
    plan = [(keys, cfg.partitions) for keys in cfg.keys]
    plan += [(min(cfg.keys), p) for p in cfg.memory_partitions if p != cfg.partitions]
    for rep in range(cfg.repeats):
        for keys, partitions in plan:
            h.log(f"memory repeat {rep + 1}/{cfg.repeats}: {keys:,} keys, {partitions} partitions")
            await _memory_once(h, keys, partitions, out)
    return out.rows()
