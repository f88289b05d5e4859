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

from bench.config import BenchConfig
from bench.harness import Harness
from bench.kafka import create_topics, preload
from bench.report import Row
from bench.stats import summarize
from bench.workers import BenchWorker

__all__ = ["customer_records", "run_state"]

TABLE = "customers"
OPTIONS = {"ShopStream options": "app", "Faust default options": "bench.faust_default_worker"}
LOOKUPS = 1000
MIB = 2**20


def customer_records(app_id: str, keys: int) -> Iterator[tuple[str, bytes | None, bytes]]:
    """Changelog records of ``keys`` customers, as ``agents.customer_orders`` writes them."""
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
        rows = [Row(b, c, m, u, summarize(v)) for (b, c, m, u), v in self.values.items()]
        return sorted(rows, key=lambda row: row.bench != "recovery")  # stable: recovery first


async def _restore(
    h: Harness, worker: BenchWorker, keys: int, case: str, out: _Collector, *, recovery: bool
) -> None:
    """A start on an empty datadir: recovery figures (if asked) and the RSS."""
    ready, restore, rss = await _start(worker)
    await asyncio.to_thread(_lookups, worker, keys)
    if recovery:
        wiped = f"{keys:,} keys, datadir wiped"
        out.add("recovery", wiped, "time to ready", "s", ready)
        out.add("recovery", wiped, "restore time", "s", restore)
        out.add("recovery", wiped, "restore rate", "records/s", keys / restore if restore else None)
    out.add("memory", case, "RSS at ready", "MiB", rss / MIB)
    out.add("memory", case, f"RSS after {LOOKUPS} lookups", "MiB", worker.rss_bytes() / MIB)
    out.add("memory", case, "restore time", "s", restore)
    h.log(f"{case}: ready in {ready:.1f}s, restore {restore}s, RSS {rss / MIB:.0f} MiB")


async def _restart_kept(h: Harness, worker: BenchWorker, keys: int, out: _Collector) -> None:
    worker.stop()
    ready, restore, _ = await _start(worker)
    await asyncio.to_thread(_lookups, worker, keys)
    out.add("recovery", f"{keys:,} keys, RocksDB kept", "time to ready", "s", ready)
    out.add("recovery", f"{keys:,} keys, RocksDB kept", "restore time", "s", restore)
    h.log(f"{keys:,} keys, RocksDB kept: ready in {ready:.1f}s")


async def _state_once(
    h: Harness, keys: int, partitions: int, out: _Collector, *, recovery: bool, memory: bool
) -> None:
    """One changelog of ``keys`` customers, restored by each option set in turn."""
    app_id = h.new_app_id(f"state{keys}p{partitions}")
    await _fill(h, app_id, keys, partitions)
    chosen = OPTIONS if memory else {k: v for k, v in OPTIONS.items() if v == "app"}
    for label, module in chosen.items():
        name = module.replace(".", "-")
        worker = h.worker(app_id, module=module, partitions=partitions, name=name)
        case = f"{keys:,} keys, {partitions} partitions, {label}"
        tracked = recovery and module == "app" and partitions == h.config.partitions
        try:
            await _restore(h, worker, keys, case, out, recovery=tracked)
            if tracked:
                await _restart_kept(h, worker, keys, out)
        finally:
            worker.stop()
            _wipe(worker)
            h.report_crashes(case, [worker])
    h.cleanup(app_id)


def _plan(cfg: BenchConfig, *, memory: bool) -> list[tuple[int, int, int]]:
    """(keys, partitions, repeats): big tables are restored fewer times (minutes each)."""
    plan = [
        (k, cfg.partitions, cfg.repeats if k <= cfg.many_keys else cfg.many_keys_repeats)
        for k in cfg.keys
    ]
    if memory:
        small = min(cfg.keys)
        plan += [(small, p, cfg.repeats) for p in cfg.memory_partitions if p != cfg.partitions]
    return plan


async def run_state(h: Harness, *, recovery: bool, memory: bool) -> list[Row]:
    """Recovery (issue 5 item 5) and memory share their restores: one pass does both."""
    out = _Collector()
    for keys, partitions, repeats in _plan(h.config, memory=memory):
        for rep in range(repeats):
            what = f"state repeat {rep + 1}/{repeats}: {keys:,} keys, {partitions} partitions"
            h.log(what)
            try:
                await _state_once(h, keys, partitions, out, recovery=recovery, memory=memory)
            except Exception as exc:  # keep the other repeats' figures
                h.note(f"{what} failed: {type(exc).__name__}: {str(exc)[:300]}")
    return out.rows()
