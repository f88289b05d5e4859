"""Prometheus metrics of the analytics engine (prometheus_client's default registry).

``GET /metrics`` serves the default registry, so these appear there without
further wiring. Kept apart from :mod:`app.monitoring.metrics` (owned by the metrics
page) so that neither module has to change for the other.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter

__all__ = ["ANALYTICS_RECORDS", "LATE_EVENTS", "record_analytics_outcome", "record_late_event"]

LATE_EVENTS: Final = Counter(
    "shopstream_late_events",
    "Events later than the grace period behind their partition's event time: "
    "not counted in analytics, sent to dead-letters with reason late.",
    ["topic"],
)
ANALYTICS_RECORDS: Final = Counter(
    "shopstream_analytics_records",
    "Records taken by the analytics agent, by outcome "
    "(applied, replayed, duplicate, late, invalid).",
    ["outcome"],
)


def record_late_event(topic: str, count: int = 1) -> None:
    LATE_EVENTS.labels(topic=topic).inc(count)


def record_analytics_outcome(outcome: str, count: int = 1) -> None:
    ANALYTICS_RECORDS.labels(outcome=outcome).inc(count)
