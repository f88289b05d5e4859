"""What an operator needs when something is wrong, kept in memory by each worker.

The dashboard's operations panel and ``GET /operations`` show, for this
worker: consumer lag per input topic, events per second per input topic, dead
letters by stage with the latest reasons, and the latest alerts; ``/metrics``
has the same as ``shopstream_consumer_lag``, ``shopstream_events_processed``
(a rate in PromQL), ``shopstream_dead_letters`` and ``shopstream_alerts``.

The latest dead letters and alerts are the last :data:`LATEST` this worker
sent (the topics themselves hold the full history: ``shopstream dlq list``).
Events per second come from :class:`RateSampler`, fed once a second by a
timer; nothing here imports Faust, so agents and tests can use it freely.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Final

from prometheus_client import Counter, Gauge

from app.kafka.topic_names import INPUT_TOPICS
from app.monitoring.metrics import DEAD_LETTERS, METRICS_REGISTRY
from domain.timefmt import format_time, now_utc

__all__ = [
    "ALERTS",
    "CONSUMER_LAG",
    "LATEST",
    "RateSampler",
    "counter_totals",
    "dead_letter_summary",
    "latest_alerts",
    "record_alert",
    "remember_dead_letter",
]

#: How many recent dead letters and alerts a worker keeps for the dashboard.
LATEST: Final = 10
#: Longest reason or detail kept per entry (the dead letter on the topic has it whole).
_TEXT_LIMIT: Final = 300

ALERTS: Final = Counter(
    "shopstream_alerts",
    "Alerts published on the alerts topic by this worker, by kind.",
    ["kind"],
    registry=METRICS_REGISTRY,
)
CONSUMER_LAG: Final = Gauge(
    "shopstream_consumer_lag",
    "Records on this worker's assigned input partitions not yet processed "
    "(high watermark minus the next offset to process), per input topic.",
    ["topic"],
    registry=METRICS_REGISTRY,
)
for _topic in INPUT_TOPICS:
    CONSUMER_LAG.labels(topic=_topic)

_dead_letters: deque[dict[str, Any]] = deque(maxlen=LATEST)
_alerts: deque[dict[str, Any]] = deque(maxlen=LATEST)


def counter_totals(counter: Counter, label: str) -> dict[str, float]:
    """A counter's ``_total`` samples added up by one of its labels."""
    totals: dict[str, float] = {}
    for metric in counter.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                key = sample.labels[label]
                totals[key] = totals.get(key, 0.0) + sample.value
    return totals


def remember_dead_letter(
    *, stage: str, error_type: str, error: str, source_topic: str, partition: int, offset: int
) -> None:
    """Keep one dead letter this worker sent, newest first (``record_dead_letter`` counts it)."""
    _dead_letters.appendleft(
        {
            "at": format_time(now_utc()),
            "stage": stage,
            "error_type": error_type,
            "error": error[:_TEXT_LIMIT],
            "source_topic": source_topic,
            "partition": partition,
            "offset": offset,
        }
    )


def dead_letter_summary() -> dict[str, Any]:
    """Dead letters this worker sent since it started, by stage, and the latest ones."""
    by_stage = counter_totals(DEAD_LETTERS, "stage")
    return {
        "by_stage": {stage: int(count) for stage, count in sorted(by_stage.items())},
        "latest": list(_dead_letters),
    }


def record_alert(alert: Mapping[str, Any]) -> None:
    """Count one alert published (its DESIGN.md wire form) and keep it for the dashboard."""
    kind = str(alert.get("kind", "unknown"))
    ALERTS.labels(kind=kind).inc()
    _alerts.appendleft(
        {
            "occurred_at": alert.get("occurred_at"),
            "kind": kind,
            "order_id": alert.get("order_id"),
            "detail": str(alert.get("detail", ""))[:_TEXT_LIMIT],
        }
    )


def latest_alerts() -> list[dict[str, Any]]:
    return list(_alerts)


class RateSampler:
    """Events per second per topic over the last ``window`` seconds, from a running total.

    :meth:`sample` is called about once a second; :meth:`rates` compares the
    newest sample with the oldest one still in the window.
    """

    def __init__(
        self,
        totals: Callable[[], Mapping[str, float]],
        *,
        window: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._totals = totals
        self._window = window
        self._clock = clock
        self._samples: deque[tuple[float, dict[str, float]]] = deque()

    def sample(self) -> None:
        now = self._clock()
        self._samples.append((now, dict(self._totals())))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self._window:
            self._samples.popleft()

    def rates(self) -> dict[str, float]:
        """Per topic, rounded to 0.1/s; 0 until two samples exist."""
        if len(self._samples) < 2:
            return {topic: 0.0 for topic in self._totals()}
        (t0, first), (t1, last) = self._samples[0], self._samples[-1]
        elapsed = max(t1 - t0, 1e-9)
        return {
            topic: round(max(0.0, total - first.get(topic, 0.0)) / elapsed, 1)
            for topic, total in last.items()
        }
