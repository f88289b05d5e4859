"""The bench harness's pure parts: summaries, percentiles, formatting, result files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.config import BenchConfig
from bench.kafka import rate_from_marks
from bench.report import BenchRun, Row, markdown_table, write_results
from bench.stats import format_number, format_summary, percentile, ratio, summarize
from bench.workers import parse_recovery_log


def test_summary_is_median_with_min_and_max_ignoring_missing_values() -> None:
    summary = summarize([3.0, 1.0, float("nan"), 2.0, 10.0])
    assert summary is not None
    assert (summary.median, summary.min, summary.max) == (2.5, 1.0, 10.0)
    assert summarize([]) is None
    assert summarize([float("inf")]) is None


def test_nearest_rank_percentile() -> None:
    values = sorted(float(v) for v in range(1, 101))
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_formatting_of_numbers_and_summaries() -> None:
    assert format_number(12345.6) == "12,346"
    assert format_number(12.345) == "12.3"
    assert format_number(0.012345) == "0.0123"
    assert format_number(None) == "-"
    assert format_summary(summarize([900.0, 1100.0, 1000.0]), "ev/s") == "1,000 (900-1,100) ev/s"
    assert format_summary(summarize([5.0])) == "5.00"
    assert format_summary(None) == "-"


def test_ratio_of_medians() -> None:
    assert ratio(summarize([2.0, 4.0, 6.0]), summarize([2.0])) == 2.0
    assert ratio(summarize([1.0]), None) is None
    assert ratio(summarize([1.0]), summarize([0.0])) is None


def test_results_are_written_as_json_and_markdown(tmp_path: Path) -> None:
    run = BenchRun(machine={"cpu_model": "Test CPU", "cpu_cores": 2}, config={"repeats": 3})
    run.add([Row("throughput", "clicks", "max sustained", "events/s", summarize([1.0, 2.0, 3.0]))])
    run.add([Row("throughput", "mix", "max sustained", "events/s", None)])
    run.ratios["a / b"] = 0.5
    written = write_results(run, tmp_path, plots=False)
    assert [p.name for p in written] == ["results.json", "results.md"]
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["rows"][0]["summary"] == {
        "median": 2.0,
        "min": 1.0,
        "max": 3.0,
        "values": [1.0, 2.0, 3.0],
    }
    assert data["rows"][1]["summary"] is None
    table = markdown_table(run)
    assert "| throughput | clicks | max sustained | 2.00 (1.00-3.00) | events/s |" in table
    assert "| throughput | mix | max sustained | - | events/s |" in table
    assert "| a / b | 0.500 |" in table
    assert "Test CPU, 2 cores" in table
    assert "- load:" not in table  # not recorded: no line rather than a line of "-"


def test_the_tables_say_how_much_of_the_machine_others_took_during_the_run() -> None:
    machine = {
        "cpu_cores": 2,
        "load_average": [0.1, 0.2, 0.3],
        "load_average_after": [1.5, 1.2, 0.9],
        "idle_percent": 31.4,
        "stolen_by_host_percent": 12.0,
    }
    table = markdown_table(BenchRun(machine=machine, config={}))
    assert (
        "- load: idle 31.4 % and stolen by the host 12.0 % of all cores over the run; "
        "load average 0.100, 0.200, 0.300 before, 1.50, 1.20, 0.900 after"
    ) in table


def test_recovery_seconds_come_from_faust_log_lines() -> None:
    log = "\n".join(
        [
            "[2026-11-21 10:00:00,000] [1] [INFO] [^---Recovery]: Restoring state from changelog topics...",
            "[2026-11-21 10:00:02,500] [1] [INFO] [^---Recovery]: Done reading from changelog topics",
            "[2026-11-21 10:00:02,600] [1] [INFO] [^---Recovery]: Worker ready",
        ]
    )
    assert parse_recovery_log(log).restore_seconds == 2.5
    assert parse_recovery_log("no recovery here").restore_seconds is None


def test_quick_mode_from_the_environment() -> None:
    assert BenchConfig.from_env({"BENCH_QUICK": "1"}).quick
    assert BenchConfig.from_env({"BENCH_QUICK": "1"}).repeats == 1
    assert BenchConfig.from_env({"BENCH_REPEATS": "5"}).repeats == 5
    full = BenchConfig.from_env({})
    assert not full.quick and full.repeats == 3 and full.keys == (100_000, 1_000_000)


def test_sustained_rate_is_taken_between_commit_marks_before_the_end() -> None:
    # commits at t=10 (1,000 done), 12 (3,000), 14 (5,000); the final commit (6,000) at t=15
    marks = [(10.0, 1000), (12.0, 3000), (14.0, 5000), (15.0, 6000)]
    drained = rate_from_marks(marks, total=6000)
    assert (drained.events, drained.seconds, drained.rate) == (4000, 4.0, 1000.0)
    # one mid-run mark only: first mark -> final commit
    assert rate_from_marks([(10.0, 1000), (13.0, 6000)], total=6000).rate == 5000 / 3
    assert rate_from_marks([(10.0, 6000)], total=6000).rate is None
    # marks count internal records too; the rate is reported in input events
    halved = rate_from_marks(marks, total=6000, per_record=0.5)
    assert (halved.events, halved.total, halved.rate) == (2000, 3000, 500.0)
