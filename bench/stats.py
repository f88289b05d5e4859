"""Summaries of repeated measurements: the median, quoted with min and max.

Pure functions only (no Kafka, no clock), so the formatting that ends up in
the published tables is unit-tested.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "Summary",
    "format_number",
    "format_summary",
    "percentile",
    "ratio",
    "summarize",
]


@dataclass(frozen=True, slots=True)
class Summary:
    """Median, min and max of the repeats of one measurement (and the raw values)."""

    median: float
    min: float
    max: float
    values: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["values"] = list(self.values)
        return data


def summarize(values: Iterable[float]) -> Summary | None:
    """The summary of the finite values; None when no repeat produced one."""
    kept = tuple(float(v) for v in values if v is not None and math.isfinite(v))
    if not kept:
        return None
    return Summary(statistics.median(kept), min(kept), max(kept), kept)


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values (as HDR histograms report)."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0 < pct <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {pct}")
    rank = math.ceil(pct / 100 * len(sorted_values))
    return float(sorted_values[max(rank, 1) - 1])


def ratio(numerator: Summary | None, denominator: Summary | None) -> float | None:
    """Ratio of two medians; None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator.median == 0:
        return None
    return numerator.median / denominator.median


def format_number(value: float | None, *, digits: int = 3) -> str:
    """Human-sized numbers: thousands separators for big ones, significant digits for small."""
    if value is None or not math.isfinite(value):
        return "-"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(magnitude)))
    return f"{value:.{decimals}f}"


def format_summary(summary: Summary | None, unit: str = "") -> str:
    """``median (min-max) unit``, e.g. ``1,234 (1,100-1,300) ev/s``; ``-`` when missing."""
    if summary is None:
        return "-"
    suffix = f" {unit}" if unit else ""
    if len(summary.values) == 1:
        return f"{format_number(summary.median)}{suffix}"
    low, high = format_number(summary.min), format_number(summary.max)
    return f"{format_number(summary.median)} ({low}-{high}){suffix}"
