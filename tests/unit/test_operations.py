"""The operations figures a worker keeps: events per second, latest dead letters and alerts."""

from __future__ import annotations

from app.monitoring import operations
from app.monitoring.metrics import record_dead_letter
from app.monitoring.operations import RateSampler, dead_letter_summary, record_alert


def test_events_per_second_over_the_window() -> None:
    now = [0.0]
    totals = {"orders": 0.0, "clickstream": 0.0}
    sampler = RateSampler(lambda: totals, window=10.0, clock=lambda: now[0])
    assert sampler.rates() == {"orders": 0.0, "clickstream": 0.0}
    for second in range(1, 31):
        now[0] = float(second)
        totals["orders"] += 5
        totals["clickstream"] += 100 if second > 20 else 0
        sampler.sample()
    rates = sampler.rates()
    assert rates["orders"] == 5.0
    assert 90.0 <= rates["clickstream"] <= 100.0  # the last 10 s only


def test_latest_dead_letters_newest_first_and_counted_by_stage() -> None:
    before = dead_letter_summary()["by_stage"].get("decode", 0)
    for offset in range(operations.LATEST + 3):
        record_dead_letter("decode", "UndecodableValue")
        operations.remember_dead_letter(
            stage="decode",
            error_type="UndecodableValue",
            error="x" * 1000,
            source_topic="orders",
            partition=1,
            offset=offset,
        )
    summary = dead_letter_summary()
    assert summary["by_stage"]["decode"] == before + operations.LATEST + 3
    latest = summary["latest"]
    assert len(latest) == operations.LATEST
    assert latest[0]["offset"] == operations.LATEST + 2
    assert len(latest[0]["error"]) == 300


def test_alerts_are_counted_and_kept() -> None:
    record_alert(
        {"kind": "amount_mismatch", "order_id": "o-1", "detail": "paid 9.00", "occurred_at": "t"}
    )
    assert operations.latest_alerts()[0] == {
        "occurred_at": "t",
        "kind": "amount_mismatch",
        "order_id": "o-1",
        "detail": "paid 9.00",
    }
    assert operations.counter_totals(operations.ALERTS, "kind")["amount_mismatch"] >= 1
