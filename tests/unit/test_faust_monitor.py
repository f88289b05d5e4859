"""The lean Faust monitor counts per record and publishes the same metrics per commit."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from faust.sensors.prometheus import FaustMetrics
from faust.types import TP
from prometheus_client import CollectorRegistry

from app.monitoring.faust_monitor import LeanPrometheusMonitor


def test_counts_reach_the_prometheus_metrics_at_the_commit() -> None:
    registry = CollectorRegistry()
    monitor = LeanPrometheusMonitor(FaustMetrics.create(registry, "faust"))
    tp = TP("orders", 1)
    table = SimpleNamespace(name="orders")
    for offset in range(3):
        monitor.on_message_in(tp, offset, None)
        monitor.on_table_set(table, b"k", b"v")
    monitor.on_send_initiated(None, "order-status", None, 1, 1)
    monitor.on_send_completed(None, None, None)
    assert registry.get_sample_value("faust_messages_received_total") in (None, 0.0)

    consumer: Any = None
    monitor.on_commit_completed(consumer, monitor.on_commit_initiated(consumer))

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert sample("faust_messages_received_total") == 3
    assert sample("faust_messages_received_per_topic_total", topic="orders") == 3
    assert (
        sample("faust_messages_received_per_topics_partition", topic="orders", partition="1") == 2
    )
    ops = sample("faust_table_operations_total", table="table.orders", operation="keys_updated")
    assert ops == 3
    assert sample("faust_topic_messages_sent_total", topic="topic.order-status") == 1
    assert sample("faust_total_sent_messages_total") == 1
