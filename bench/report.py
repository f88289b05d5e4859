"""Result files of one bench run: JSON (everything), a markdown table, PNG plots.

A run is a list of :class:`Row` (one measured quantity, summarized over the
repeats) plus machine/version info and free-form notes. Writing is pure
apart from the file system, so it is unit-tested without a broker.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.stats import Summary, format_number, format_summary

__all__ = ["BenchRun", "Row", "markdown_table", "write_results"]


@dataclass(frozen=True, slots=True)
class Row:
    """One quantity of one benchmark case, e.g. (throughput, clickstream, events/s)."""

    bench: str
    case: str
    metric: str
    unit: str
    summary: Summary | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "bench": self.bench,
            "case": self.case,
            "metric": self.metric,
            "unit": self.unit,
            "summary": None if self.summary is None else self.summary.to_dict(),
        }


@dataclass(slots=True)
class BenchRun:
    """Everything one ``make bench`` produced."""

    machine: dict[str, Any]
    config: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    ratios: dict[str, float | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, rows: Iterable[Row]) -> None:
        self.rows.extend(rows)

    def find(self, bench: str, case: str, metric: str) -> Summary | None:
        for row in self.rows:
            if (row.bench, row.case, row.metric) == (bench, case, metric):
                return row.summary
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "config": self.config,
            "rows": [row.to_dict() for row in self.rows],
            "ratios": self.ratios,
            "notes": self.notes,
            "extra": self.extra,
        }


def markdown_table(run: BenchRun) -> str:
    """The run as markdown: machine line, one table of medians (min-max), ratios, notes."""
    m = run.machine
    lines = [
        "# ShopStream benchmark results",
        "",
        f"- when: {m.get('timestamp', '?')}; git {m.get('git_commit', '?')}",
        f"- machine: {m.get('cpu_model', '?')}, {m.get('cpu_cores', '?')} cores, "
        f"{format_number(m.get('ram_gib'))} GiB RAM, {m.get('os', '?')}",
        f"- versions: Python {m.get('python', '?')}, faust-streaming {m.get('faust', '?')}, "
        f"aiokafka {m.get('aiokafka', '?')}, Kafka {m.get('kafka', '?')}, "
        f"quixstreams {m.get('quixstreams', '?')}",
        *_machine_load(m),
        f"- repeats: {run.config.get('repeats', '?')}; quick: {run.config.get('quick', '?')}; "
        "values are median (min-max) over the repeats",
        "",
        "| benchmark | case | metric | median (min-max) | unit |",
        "|---|---|---|---|---|",
    ]
    for row in run.rows:
        value = format_summary(row.summary)
        lines.append(f"| {row.bench} | {row.case} | {row.metric} | {value} | {row.unit} |")
    if run.ratios:
        lines += ["", "| ratio (of medians) | value |", "|---|---|"]
        lines += [f"| {name} | {format_number(value)} |" for name, value in run.ratios.items()]
    if run.notes:
        lines += ["", "Notes:", ""]
        lines += [f"- {note}" for note in run.notes]
    return "\n".join(lines) + "\n"


def _machine_load(machine: dict[str, Any]) -> list[str]:
    """The line on what else used the machine during the run (when it was recorded)."""
    if "stolen_by_host_percent" not in machine:
        return []
    before = ", ".join(format_number(x) for x in machine.get("load_average", []))
    after = ", ".join(format_number(x) for x in machine.get("load_average_after", []))
    return [
        f"- load: idle {format_number(machine.get('idle_percent'))} % and stolen by the host "
        f"{format_number(machine['stolen_by_host_percent'])} % of all cores over the run; "
        f"load average {before} before, {after} after"
    ]


def _plot_groups(rows: Sequence[Row]) -> dict[str, dict[tuple[str, str], list[Row]]]:
    """benchmark -> (metric, unit) -> rows, in the order they were measured."""
    groups: dict[str, dict[tuple[str, str], list[Row]]] = {}
    for row in rows:
        if row.summary is not None:
            groups.setdefault(row.bench, {}).setdefault((row.metric, row.unit), []).append(row)
    return groups


def write_plots(run: BenchRun, folder: Path) -> list[Path]:
    """One PNG per benchmark: a panel per metric, bars at the median, whiskers min-max."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    groups = _plot_groups(run.rows)
    if "latency" in groups:
        written.append(_latency_plot(run.rows, folder, plt))
        del groups["latency"]
    for bench, metrics in groups.items():
        fig, axes = plt.subplots(
            len(metrics),
            1,
            figsize=(
                9,
                1.2
                + 0.45 * max(len(r) for r in metrics.values()) * len(metrics)
                + 1.0 * len(metrics),
            ),
            squeeze=False,
        )
        for ax, ((metric, unit), rows) in zip(axes[:, 0], metrics.items(), strict=True):
            medians = [r.summary.median for r in rows if r.summary is not None]
            lows = [r.summary.median - r.summary.min for r in rows if r.summary is not None]
            highs = [r.summary.max - r.summary.median for r in rows if r.summary is not None]
            labels = [r.case for r in rows]
            ax.barh(labels, medians, xerr=[lows, highs], capsize=3, color="#4c78a8")
            ax.invert_yaxis()
            if min(medians) > 0 and max(medians) / min(medians) > 50:
                ax.set_xscale("log")
            ax.set_xlabel(f"{metric} ({unit})")
            for y, value in enumerate(medians):
                ax.annotate(
                    format_number(value),
                    (value, y),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    fontsize=8,
                )
        fig.suptitle(f"{bench} — median, whiskers min-max")
        fig.tight_layout()
        path = folder / f"{bench}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written


def matplotlib_ticker() -> Any:
    import matplotlib.ticker

    return matplotlib.ticker


def _latency_plot(rows: Sequence[Row], folder: Path, plt: Any) -> Path:
    """Percentile (ms) against offered load: one line per path and percentile.

    The CPU split beside each level (other units) is in the tables, not on this plot.
    """
    series: dict[str, list[tuple[str, Summary]]] = {}
    for row in rows:
        if row.bench == "latency" and row.unit == "ms" and row.summary is not None:
            series.setdefault(row.metric, []).append((row.case, row.summary))
    fig, ax = plt.subplots(figsize=(9, 5))
    for metric, points in series.items():
        labels = [case.split(" (")[0] for case, _ in points]
        medians = [s.median for _, s in points]
        errors = [[s.median - s.min for _, s in points], [s.max - s.median for _, s in points]]
        style = "-" if "order-status" in metric else "--"
        ax.errorbar(
            labels,
            medians,
            yerr=errors,
            linestyle=style,
            marker="o",
            capsize=3,
            label=metric.replace("produce -> ", ""),
        )
    ax.set_xlabel("offered load (share of the measured maximum of the simulate mix)")
    ax.set_ylabel("latency from the produce call (ms)")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(matplotlib_ticker().ScalarFormatter())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("end-to-end latency — median over repeats, whiskers min-max")
    fig.tight_layout()
    path = folder / "latency.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_results(run: BenchRun, folder: Path, *, plots: bool = True) -> list[Path]:
    """Write results.json, results.md and the plots; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / "results.json"
    json_path.write_text(json.dumps(run.to_dict(), indent=2, sort_keys=False) + "\n")
    md_path = folder / "results.md"
    md_path.write_text(markdown_table(run))
    written = [json_path, md_path]
    if plots:
        written += write_plots(run, folder)
    return written
