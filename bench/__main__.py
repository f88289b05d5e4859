"""``python -m bench`` (``make bench``): start a broker, run the benchmarks, write the results.

Options: ``--quick`` (or ``BENCH_QUICK=1``) for a smoke run of a few minutes,
``--repeats N`` (or ``BENCH_REPEATS``), ``--only throughput,latency``,
``--out DIR``. See bench/README.md for what each benchmark measures.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.config import ALL_BENCHES, ROOT, BenchConfig
from bench.cpu import CpuMeter, cpu_shares
from bench.harness import Harness
from bench.machine import machine_info
from bench.report import BenchRun, markdown_table, write_results

__all__ = ["main"]


def _parse(argv: list[str] | None) -> BenchConfig:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--repeats", type=int, help="repeats of each benchmark (default 3)")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(ALL_BENCHES)}")
    parser.add_argument("--out", type=Path, help="results folder (default bench/results)")
    parser.add_argument("--keys", help="table sizes for recovery/memory, e.g. 100000,1000000")
    parser.add_argument(
        "--latency-max",
        type=float,
        help="events/s the latency levels are fractions of (default: the measured mix maximum)",
    )
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {"quick": args.quick}
    if args.repeats is not None:
        overrides["repeats"] = args.repeats
    if args.only:
        chosen = tuple(b.strip() for b in args.only.split(",") if b.strip())
        unknown = set(chosen) - set(ALL_BENCHES)
        if unknown:
            parser.error(f"unknown benchmarks {sorted(unknown)}; pick from {ALL_BENCHES}")
        overrides["benches"] = chosen
    if args.latency_max is not None:
        overrides["latency_max"] = args.latency_max
    if args.keys:
        overrides["keys"] = tuple(int(k) for k in args.keys.split(","))
    if args.out is not None:
        overrides["results_dir"] = args.out
    elif overrides.get("benches") in (("clients",), ("hostile",), ("decoding",)):
        # One of these alone must not overwrite the full run's results.
        overrides["results_dir"] = ROOT / "bench" / "results" / overrides["benches"][0]
    return BenchConfig.from_env(**overrides)


async def _run_all(h: Harness, run: BenchRun) -> None:
    from bench.hostile import run_hostile
    from bench.latency import run_latency
    from bench.orders_backlog import run_orders_backlog
    from bench.recovery import run_state
    from bench.scaling import run_scaling
    from bench.throughput import run_throughput

    async def throughput() -> None:
        rows, ratios = await run_throughput(h)
        run.add(rows)
        run.ratios.update(ratios)

    async def orders() -> None:
        run.add(await run_orders_backlog(h))

    async def latency() -> None:
        measured = run.find("throughput", "ShopStream simulate mix", "max sustained")
        top = None if measured is None else measured.median
        run.add(await run_latency(h, h.config.latency_max or top))

    async def scaling() -> None:
        rows, ratio = await run_scaling(h)
        run.add(rows)
        run.ratios["two workers / one worker (clickstream)"] = ratio

    async def clients() -> None:
        from bench.clients.compare import run_clients

        rows, facts = await run_clients(h)
        run.add(rows)
        run.extra["clients"] = facts

    async def decoding() -> None:
        from bench.decoding import run_decoding

        rows, framed_over_plain = await run_decoding(h)
        run.add(rows)
        run.ratios["framed / plain decoding"] = framed_over_plain

    async def state() -> None:
        chosen = h.config.benches
        run.add(await run_state(h, recovery="recovery" in chosen, memory="memory" in chosen))

    async def hostile() -> None:
        run.add(await run_hostile(h))

    steps: dict[str, Callable[[], Awaitable[None]]] = {
        "throughput": throughput,
        "orders": orders,
        "scaling": scaling,
        "latency": latency,
        "recovery": state,
        "memory": state,
        "clients": clients,
        "hostile": hostile,
        "decoding": decoding,
    }
    done: set[Callable[[], Awaitable[None]]] = set()
    for name in ALL_BENCHES:
        if name not in h.config.benches or steps[name] in done:
            continue
        done.add(steps[name])
        started = time.monotonic()
        try:
            await steps[name]()
        except Exception as exc:  # one broken benchmark must not lose the others' figures
            traceback.print_exc()
            run.notes.append(f"{name} failed: {type(exc).__name__}: {str(exc)[:300]}")
        run.extra.setdefault("seconds", {})[name] = round(time.monotonic() - started, 1)


def main(argv: list[str] | None = None) -> None:
    config = _parse(argv)
    # aiokafka's retries right after a topic is created are expected here, not news.
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    from localservices.kafka import LocalKafkaCluster

    config.work_dir.mkdir(parents=True, exist_ok=True)
    run = BenchRun(machine=machine_info(), config=config.to_dict())
    machine_cpu = CpuMeter({})  # the run's idle and stolen share, beside the load average
    cpu_at_start = machine_cpu.read()
    # The broker compiles with every JIT tier: a benchmark measures its steady state.
    with LocalKafkaCluster(1, partitions=config.partitions, heap="1g", jit="full") as cluster:
        h = Harness(
            config, cluster.bootstrap_servers, cluster.url, broker_pids=tuple(cluster.pids())
        )
        h.log(f"broker at {cluster.bootstrap_servers}; config {config.to_dict()}")
        try:
            asyncio.run(_run_all(h, run))
        finally:
            run.notes[:0] = h.notes
    run.machine["load_average_after"] = list(os.getloadavg())
    run_cpu = cpu_shares(cpu_at_start, machine_cpu.read())
    run.machine["idle_percent"] = round(run_cpu.idle, 1)
    run.machine["stolen_by_host_percent"] = round(run_cpu.stolen, 1)
    written = write_results(run, config.results_dir)
    print(markdown_table(run))
    if "clients" in run.extra:
        from bench.clients.table import seeds_table

        table_path = config.results_dir / "clients.md"
        table_path.write_text(seeds_table(run))
        written.append(table_path)
        print(seeds_table(run))
    print("written: " + ", ".join(str(p) for p in written))


if __name__ == "__main__":
    main()
