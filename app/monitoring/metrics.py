"""ShopStream's own Prometheus metrics, served at ``GET /metrics`` next to Faust's.

Faust's sensors (``faust.sensors.prometheus``, wired in :mod:`app.web.metrics`)
already count messages, table operations, commits and HTTP latency; what they
cannot know is what those messages *meant*. The counters here add the product
view: events processed per input topic, dead letters per stage and error type,
order status changes per status, and the long-lived HTTP connections held.

Everything is registered in prometheus_client's default ``REGISTRY``, the one
``/metrics`` serves, so a counter added anywhere with ``Counter(...)`` shows up
without further wiring. Agents call the ``record_*`` functions, which keep the
label names in one place.
This module imports neither Faust nor the App, so it is cheap to import from
agents, tools and tests.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge

from app.kafka.topic_names import INPUT_TOPICS
from domain.order_outputs import OrderStatus

__all__ = [
    "DASHBOARD_SOURCE_FAILURES",
    "DEAD_LETTERS",
    "EVENTS_PROCESSED",
    "HTTP_HELD",
    "HTTP_REFUSED",
    "METRICS_REGISTRY",
    "ORDER_STATUS_CHANGES",
    "record_dead_letter",
    "record_event_processed",
    "record_status_change",
]

#: The registry ``GET /metrics`` serves (Faust's sensor metrics live here too).
METRICS_REGISTRY: Final[CollectorRegistry] = REGISTRY

EVENTS_PROCESSED: Final = Counter(
    "shopstream_events_processed",
    "Input events taken off a topic and handled (applied, duplicate or dead-lettered).",
    ["topic"],
    registry=METRICS_REGISTRY,
)
DEAD_LETTERS: Final = Counter(
    "shopstream_dead_letters",
    "Records sent to the dead-letters topic, by processing stage and error type.",
    ["stage", "error_type"],
    registry=METRICS_REGISTRY,
)
ORDER_STATUS_CHANGES: Final = Counter(
    "shopstream_order_status_changes",
    "Order status changes published on order-status, by the new status.",
    ["status"],
    registry=METRICS_REGISTRY,
)
HTTP_HELD: Final = Gauge(
    "shopstream_http_held_connections",
    "Long-lived HTTP connections held now, by kind (sse: dashboard streams, long_poll: "
    "order waits); each kind is capped (SHOPSTREAM_MAX_SSE_CLIENTS, SHOPSTREAM_MAX_LONG_POLLS).",
    ["kind"],
    registry=METRICS_REGISTRY,
)
HTTP_REFUSED: Final = Counter(
    "shopstream_http_refused",
    "Long-lived HTTP connections refused with 503 and Retry-After because the cap was reached.",
    ["kind"],
    registry=METRICS_REGISTRY,
)
DASHBOARD_SOURCE_FAILURES: Final = Counter(
    "shopstream_dashboard_source_failures",
    "Dashboard snapshot sources that did not answer 200 (missing endpoint, timeout, error).",
    ["source"],
    registry=METRICS_REGISTRY,
)

# Known label values start at 0, so a rate() over them is defined from the
# first scrape on instead of appearing with the first increment.
for _topic in INPUT_TOPICS:
    EVENTS_PROCESSED.labels(topic=_topic)
#: The counter of each status, looked up once (``labels`` takes a lock and checks its arguments).
_STATUS_CHANGES = {
    _status.value: ORDER_STATUS_CHANGES.labels(status=_status.value) for _status in OrderStatus
}


def record_event_processed(topic: str, count: int = 1) -> None:
    """Count input events handled by an agent, whatever their outcome (once per batch)."""
    EVENTS_PROCESSED.labels(topic=topic).inc(count)


def record_dead_letter(stage: str, error_type: str) -> None:
    """Count one record sent to ``dead-letters`` (``stage`` and ``error_type`` as in the record)."""
    DEAD_LETTERS.labels(stage=stage, error_type=error_type).inc()


def record_status_change(status: OrderStatus | str) -> None:
    """Count one status change published on ``order-status``."""
    value = status.value if isinstance(status, OrderStatus) else str(status)
    counter = _STATUS_CHANGES.get(value)
    if counter is None:
        counter = ORDER_STATUS_CHANGES.labels(status=value)
    counter.inc()
