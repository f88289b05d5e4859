"""The seeds' client table with the measured columns beside the claims (markdown, pure).

The seeds compare the two Node.js clients in words only: KafkaJS "pure JavaScript, easy
setup, moderate speed", node-rdkafka "librdkafka bindings, native build, very high speed".
This puts the figures of one bench run (bench/clients/compare.py) next to those words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.report import BenchRun
from bench.stats import Summary, format_number

__all__ = ["SEEDS_CLAIMS", "seeds_table"]

#: client -> (what it is, the seeds' claim on setup, the seeds' claim on speed).
SEEDS_CLAIMS: dict[str, tuple[str, str, str]] = {
    "kafkajs": ("pure JavaScript", "easy setup", "moderate speed"),
    "node-rdkafka": ("librdkafka bindings", "native build", "very high speed"),
    "aiokafka": ("pure-Python protocol, asyncio (Faust's client)", "(twin of KafkaJS)", "-"),
    "confluent-kafka": ("librdkafka bindings", "(twin of node-rdkafka)", "-"),
}


def _find(run: BenchRun, case: str, metric: str) -> Summary | None:
    """The row of this metric (the latency ones carry " at <rate> msg/s")."""
    for row in run.rows:
        if row.bench != "clients" or row.case != case:
            continue
        if row.metric == metric or row.metric.startswith(f"{metric} at "):
            return row.summary
    return None


def _pair(run: BenchRun, client: str, sizes: Sequence[int], metric: str) -> str:
    """``a / b`` over the message sizes, medians."""
    parts = []
    for size in sizes:
        summary = _find(run, f"{client}, {size} B", metric)
        parts.append(format_number(None if summary is None else summary.median))
    return " / ".join(parts)


def _produce_cell(run: BenchRun, client: str, sizes: Sequence[int]) -> str:
    """The produce rates; KafkaJS's with 1,000 and with one message per send()."""
    rates = _pair(run, client, sizes, "produce rate")
    if _find(run, f"{client}, {sizes[0]} B", "produce rate, one message per send()") is None:
        return rates
    one_by_one = _pair(run, client, sizes, "produce rate, one message per send()")
    return f"{rates} (1,000 per send()); {one_by_one} (one per send())"


def seeds_table(run: BenchRun) -> str:
    """Markdown: one row per client, claims first, then the medians of the run."""
    facts: dict[str, Any] = run.extra.get("clients", {})
    installed: dict[str, dict[str, Any]] = facts.get("install", {})
    sizes: list[int] = list(run.config.get("client_sizes", (300, 1024)))
    rate = format_number(facts.get("latency_rate", run.config.get("client_latency_rate")))
    size_label = " / ".join("1 KiB" if s == 1024 else f"{s} B" for s in sizes)
    lines = [
        f"Medians of {run.config.get('repeats', '?')} repeats; message sizes {size_label}; "
        f"install once per run. Machine: {run.machine.get('cpu_model', '?')}, "
        f"{run.machine.get('cpu_cores', '?')} cores, load average before "
        f"{', '.join(format_number(x) for x in run.machine.get('load_average', []))}.",
        "",
        "| client | version | what it is | seeds' claim: setup | install, empty cache (s) | "
        "native build | installed (MiB) | seeds' claim: speed | produce, acks=all idempotent "
        f"(msg/s) | consume, one consumer (msg/s) | produce p99 at {rate} msg/s (ms) | "
        "peak RSS produce / consume, smallest size (MiB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for client, (what, setup, speed) in SEEDS_CLAIMS.items():
        got = installed.get(client)
        if got is None:
            continue
        small = sizes[0]
        rss = " / ".join(
            format_number(None if s is None else s.median)
            for s in (
                _find(run, f"{client}, {small} B", "peak RSS produce"),
                _find(run, f"{client}, {small} B", "peak RSS consume"),
            )
        )
        lines.append(
            f"| {client} | {got['version']} | {what} | {setup} | {format_number(got['seconds'])} | "
            f"{'yes' if got['native_build'] else 'no'} | {format_number(got['size_mib'])} | "
            f"{speed} | {_produce_cell(run, client, sizes)} | "
            f"{_pair(run, client, sizes, 'consume rate')} | "
            f"{_pair(run, client, sizes, 'produce p99')} | {rss} |"
        )
    return "\n".join(lines) + "\n"
