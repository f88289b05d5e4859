"""ShopStream's counters: the API agents call, and what a scrape shows."""

from __future__ import annotations

from prometheus_client import generate_latest

from app.monitoring import metrics
from domain.order_outputs import OrderStatus


def _value(name: str, **labels: str) -> float:
    value = metrics.METRICS_REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_each_record_function_counts_under_its_labels() -> None:
    before = (
        _value("shopstream_events_processed_total", topic="payments"),
        _value("shopstream_dead_letters_total", stage="validate", error_type="InvalidEvent"),
        _value("shopstream_order_status_changes_total", status="SHIPPED"),
    )
    metrics.record_event_processed("payments")
    metrics.record_dead_letter("validate", "InvalidEvent")
    metrics.record_status_change(OrderStatus.SHIPPED)
    metrics.record_status_change("SHIPPED")
    after = (
        _value("shopstream_events_processed_total", topic="payments"),
        _value("shopstream_dead_letters_total", stage="validate", error_type="InvalidEvent"),
        _value("shopstream_order_status_changes_total", status="SHIPPED"),
    )
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 2]


def test_known_topics_and_statuses_are_exposed_before_the_first_event() -> None:
    text = generate_latest(metrics.METRICS_REGISTRY).decode()
    for topic in ("orders", "payments", "shipments", "clickstream"):
        assert f'shopstream_events_processed_total{{topic="{topic}"}}' in text
    for status in OrderStatus:
        assert f'shopstream_order_status_changes_total{{status="{status.value}"}}' in text
