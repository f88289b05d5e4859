"""Benchmark 3: one worker against two on the clickstream job (same partitions, same records).

Here the workers start first, on empty topics, and the records are loaded
once every worker is ready: the measurement then holds no rebalance, only
the work being shared. Timed from first progress to lag 0, as throughput.
"""

from __future__ import annotations

import asyncio

from app.kafka.topic_names import CLICKSTREAM
from bench.events import clicks, records
from bench.harness import Harness
from bench.kafka import preload
from bench.report import Row
from bench.stats import ratio, summarize

__all__ = ["run_scaling"]


async def _one(h: Harness, workers: int, rep: int) -> float | None:
    cfg = h.config
    await h.fresh_topics()
    app_id = h.new_app_id(f"scale{workers}")
    procs = [h.worker(app_id, name=f"worker{i}") for i in range(workers)]
    events = clicks(cfg.scaling_clicks, cfg.seed + 100 + rep)
    with h.running(*procs):
        for proc in procs:
            await asyncio.to_thread(proc.wait_ready, 180.0)
        await asyncio.sleep(3.0)  # let the group settle after the last join
        async with h.progress(app_id, (CLICKSTREAM,)) as progress:
            # Timing starts at the first commit after the load (wait_drained), and the
            # load takes a second or two: the workers are busy from the start either way.
            await preload(h.bootstrap, records(events))
            drained = await progress.wait_drained(timeout=1800)
    h.cleanup(app_id)
    h.log(f"scaling {workers} worker(s): {drained.events} in {drained.seconds:.1f}s")
    return h.void_if_crashed(f"scaling {workers} ({app_id})", procs, drained.rate)


async def run_scaling(h: Harness) -> tuple[list[Row], float | None]:
    results: dict[int, list[float]] = {1: [], 2: []}
    for rep in range(h.config.repeats):
        for workers in (1, 2):
            h.log(f"scaling repeat {rep + 1}/{h.config.repeats}, {workers} worker(s)")
            rate = await _one(h, workers, rep)
            if rate is not None:
                results[workers].append(rate)
    one, two = summarize(results[1]), summarize(results[2])
    rows = [
        Row("scaling", "1 worker, clickstream", "throughput", "events/s", one),
        Row("scaling", "2 workers, clickstream", "throughput", "events/s", two),
    ]
    return rows, ratio(two, one)
