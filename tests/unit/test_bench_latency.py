"""The latency benchmark's pure parts and the throughput inputs' sizes (no broker)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from confluent_kafka import KafkaError

from app.kafka.topic_names import CLICKSTREAM
from bench.config import BenchConfig
from bench.cpu import CpuReading, cpu_shares
from bench.events import mix, order_pipeline_mix
from bench.latency import (
    CPU_METRICS,
    DeliveryFailed,
    DeliveryLedger,
    cpu_rows,
    match_status_latencies,
)


def test_a_level_with_every_record_delivered_passes() -> None:
    ledger = DeliveryLedger()
    for _ in range(3):
        ledger.report(None, None)
    ledger.check(3, "level")


def test_a_failed_delivery_fails_the_level_loudly() -> None:
    ledger = DeliveryLedger()
    ledger.report(None, None)
    ledger.report(KafkaError(KafkaError._MSG_TIMED_OUT), None)
    with pytest.raises(DeliveryFailed, match="1 failed"):
        ledger.check(2, "level")


def test_a_record_without_a_delivery_report_fails_the_level() -> None:
    ledger = DeliveryLedger()
    ledger.report(None, None)
    with pytest.raises(DeliveryFailed, match="2 produced, 1 delivered"):
        ledger.check(2, "level")


def _status(caused_by: str) -> bytes:
    return orjson.dumps({"order_id": "o-1", "caused_by": caused_by})


def test_status_latency_is_from_the_produce_call_to_the_first_record_it_caused() -> None:
    sent = {"e-1": 10.0, "e-2": 10.5, "e-3": 11.0}
    arrived = [
        (10.020, _status("e-1")),
        (10.030, _status("e-1")),  # a second change caused by e-1: not a second sample
        (10.040, _status("other")),  # not sent in this level
        (11.005, _status("e-3")),
    ]
    assert match_status_latencies(sent, arrived, recorded_from=10.0) == pytest.approx([20.0, 5.0])


def test_events_sent_in_the_warm_up_are_not_samples() -> None:
    sent = {"e-1": 1.0, "e-2": 3.0}
    arrived = [(3.001, _status("e-1")), (3.002, _status("e-2"))]
    assert match_status_latencies(sent, arrived, recorded_from=2.0) == pytest.approx([2.0])


def test_the_orders_only_mix_has_the_records_asked_for_none_a_click_none_from_the_future() -> None:
    events = order_pipeline_mix(400, seed=7)
    assert len(events) == 400
    assert all(e.topic != CLICKSTREAM for e in events)
    last = max(orjson.loads(e.value).get("occurred_at", "") for e in events)
    assert last < datetime.now(UTC).isoformat()


def test_generated_records_are_kept_at_their_own_size() -> None:
    import sys

    events = mix(200, seed=7)
    assert all(sys.getsizeof(e.value) < len(e.value) + 64 for e in events)


def test_a_full_run_drains_the_mixes_long_enough_to_be_a_sustained_maximum() -> None:
    full, quick = BenchConfig(), BenchConfig.quick_sizes()
    # at the recorded rates (33,833 and 6,566 events/s): at least 10 s each
    assert full.mix / 33_833 >= 10
    assert full.orders_mix / 6_566 >= 10
    assert quick.mix <= 5_000
    assert quick.orders_mix <= 5_000


def test_a_levels_cpu_split_is_per_core_for_processes_and_per_machine_for_idle_and_steal() -> None:
    before = CpuReading(
        at=100.0, processes={"worker": 10.0, "broker": 4.0}, idle=50.0, stolen=1.0, total=200.0
    )
    # 10 s of wall time on 2 cores: 20 CPU seconds in all.
    after = CpuReading(
        at=110.0, processes={"worker": 17.0, "broker": 7.5}, idle=54.0, stolen=2.0, total=220.0
    )
    shares = cpu_shares(before, after)
    assert shares.processes == {"worker": 70.0, "broker": 35.0}
    assert (shares.idle, shares.stolen) == (20.0, 5.0)
    rows = cpu_rows(shares)
    assert list(rows) == list(CPU_METRICS)
    assert rows["CPU worker"] == 70.0
    assert rows["CPU load generator"] == 0.0  # not measured: reported as nothing, not dropped
    assert rows["stolen by the host"] == 5.0


def test_a_process_that_is_gone_at_the_end_counts_nothing_rather_than_less_than_nothing() -> None:
    before = CpuReading(at=0.0, processes={"worker": 10.0}, idle=0.0, stolen=0.0, total=2.0)
    after = CpuReading(at=1.0, processes={}, idle=0.0, stolen=0.0, total=4.0)
    assert cpu_shares(before, after).processes == {"worker": 0.0}
