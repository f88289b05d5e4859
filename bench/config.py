"""Sizes and switches of a bench run: full by default, ``--quick`` for a smoke run."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ALL_BENCHES", "BenchConfig"]

ALL_BENCHES = (
    "throughput",
    "orders",
    "scaling",
    "latency",
    "recovery",
    "memory",
    "clients",
    "hostile",
    "decoding",
)
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """Everything that decides how long a run takes; recorded with the results."""

    quick: bool = False
    repeats: int = 3
    partitions: int = 4
    seed: int = 42
    benches: tuple[str, ...] = ALL_BENCHES
    #: Clickstream records pre-loaded for the throughput runs (ShopStream, aiokafka, Quix).
    #: ShopStream is timed between Faust's commit marks (every 2.8 s, or 10,000 acks): a drain
    #: of 40,000 took 4-5 s and timed badly, so long enough a drain for the marks to matter
    #: little. 150,000 drained in about 3 s at 45,504/s (session 6): 450,000 take about 10 s.
    clicks: int = 450_000
    #: Records of the simulate mix pre-loaded for the mixed throughput run. Its drain rate is
    #: the "maximum" the latency levels are fractions of, so the drain must be sustained:
    #: 80,000 drained in about 2 s (33,833 events/s), less than Faust's 2.8 s commit
    #: interval; 400,000 drained in 21 s at 18,365/s (one run; generated in ~4 s).
    mix: int = 400_000
    #: Records of the orders-only mix (the simulate mix without its clicks: orders, payments,
    #: shipments; 8.85 % of the mix). 80,000 drained in 13 s at 5,404/s (one run; 40,000 were
    #: asked for before, and only the ~28,400 in 320,000 generated were loaded).
    orders_mix: int = 80_000
    #: Records the do-nothing Faust agent reads (stock and with ShopStream's fixes).
    noop_records: int = 200_000
    #: Created orders of the backlog benchmark (+10 % duplicates), and its SIGKILLs.
    orders: int = 20_000
    backlog_crashes: int = 5
    #: Clickstream records for one vs two workers.
    scaling_clicks: int = 30_000
    #: Seconds of offered load per level in the latency run, and the levels (fraction of max).
    latency_seconds: float = 30.0
    latency_loads: tuple[float, ...] = (0.1, 0.5, 0.8)
    #: Events/s taken as the maximum when the throughput run did not measure one.
    latency_fallback_max: float = 300.0
    #: Events/s the latency levels are fractions of, whatever the throughput run measured.
    latency_max: float | None = None
    #: Keys in the customers table for recovery and memory.
    keys: tuple[int, ...] = (100_000, 1_000_000)
    #: Tables bigger than this are restored ``many_keys_repeats`` times (minutes per restore).
    many_keys: int = 200_000
    many_keys_repeats: int = 1
    #: Partition counts compared in the memory run (at the smallest key count).
    memory_partitions: tuple[int, ...] = (4, 16)
    #: Client comparison (bench/clients): message sizes in bytes (a shop event; 1 KiB),
    #: messages per produce run and in the topic each consumer reads, at the smallest size
    #: (half of it at 1 KiB), and the fixed rate and duration of the produce-latency run.
    client_sizes: tuple[int, ...] = (300, 1024)
    client_messages: int = 200_000
    client_consume_messages: int = 1_000_000
    #: KafkaJS only: messages of the produce run with one message per send() (slow).
    client_per_message_messages: int = 5_000
    client_latency_rate: float = 100.0
    client_latency_seconds: float = 10.0
    #: Hostile HTTP load beside the mix: dashboard streams, long-polls, GETs per burst.
    hostile_sse_clients: int = 500
    hostile_long_polls: int = 200
    hostile_burst: int = 2000
    hostile_burst_every: float = 5.0
    #: Records of the simulate mix drained in each hostile-load run (about a minute of work).
    hostile_mix: int = 60_000
    results_dir: Path = field(default_factory=lambda: ROOT / "bench" / "results")
    #: This run's own folder (several runs may go on at once: never shared, never wiped).
    work_dir: Path = field(
        default_factory=lambda: (
            Path(tempfile.gettempdir())
            / "shopstream-bench"
            / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        )
    )

    @classmethod
    def quick_sizes(cls, **overrides: Any) -> BenchConfig:
        """A few minutes end to end: small sizes, one repeat unless asked otherwise."""
        sizes: dict[str, Any] = {
            "quick": True,
            "repeats": 1,
            "clicks": 6_000,
            "mix": 5_000,
            "orders_mix": 2_500,
            "noop_records": 30_000,
            "orders": 3_000,
            "backlog_crashes": 2,
            "scaling_clicks": 6_000,
            "latency_seconds": 8.0,
            "keys": (20_000,),
            "memory_partitions": (4, 8),
            "client_messages": 20_000,
            "client_consume_messages": 50_000,
            "client_per_message_messages": 1_000,
            "client_latency_seconds": 3.0,
            "hostile_sse_clients": 50,
            "hostile_long_polls": 20,
            "hostile_burst": 200,
            "hostile_mix": 5_000,
        }
        sizes.update(overrides)
        return cls(**sizes)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> BenchConfig:
        """``BENCH_QUICK=1`` picks the quick sizes; ``BENCH_REPEATS=N`` the repeats."""
        env = dict(os.environ) if env is None else env
        if "BENCH_REPEATS" in env and "repeats" not in overrides:
            overrides["repeats"] = int(env["BENCH_REPEATS"])
        quick = overrides.pop("quick", False) or env.get("BENCH_QUICK", "") not in ("", "0")
        return cls.quick_sizes(**overrides) if quick else cls(**overrides)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["results_dir"] = str(self.results_dir)
        data["work_dir"] = str(self.work_dir)
        return data
