"""``GET /operations``: what an operator needs when something is wrong, for this worker.

Consumer lag and events per second per input topic, dead letters by stage with
the latest reasons, and the latest alerts (:mod:`app.monitoring.operations`
keeps them). The dashboard shows this answer in its operations panel; the same
figures are in ``/metrics``. Every answer covers this worker only (its assigned
partitions, what it sent): with several workers, each dashboard shows its own.

Consumer lag per partition is the high watermark the consumer last saw minus
the next offset the agents will read (the last offset read + 1, or the fetch
position before anything was read). A timer refreshes the lag gauge and the
events-per-second sample once a second.
"""

from __future__ import annotations

import contextlib
from typing import Any, Final

from faust.web import Request, Response, View

from app.kafka.topic_names import INPUT_TOPICS
from app.main import app
from app.monitoring.metrics import EVENTS_PROCESSED
from app.monitoring.operations import (
    CONSUMER_LAG,
    RateSampler,
    counter_totals,
    dead_letter_summary,
    latest_alerts,
)
from domain.timefmt import format_time, now_utc

__all__ = ["OPERATIONS_PATH", "consumer_lag"]

OPERATIONS_PATH: Final = "/operations"

_events = RateSampler(lambda: counter_totals(EVENTS_PROCESSED, "topic"))


async def consumer_lag() -> dict[str, int]:
    """Records not yet read on this worker's assigned input partitions, per input topic."""
    lag = dict.fromkeys(INPUT_TOPICS, 0)
    consumer = app.consumer
    if consumer is None:
        return lag
    read_offsets = app.monitor.tp_read_offsets
    for tp in consumer.assignment():
        if tp.topic not in lag:
            continue
        with contextlib.suppress(Exception):  # not fetched yet, or moving in a rebalance
            high = consumer.highwater(tp)
            read = read_offsets.get(tp)
            next_offset = read + 1 if read is not None else await consumer.position(tp)
            if high is not None and next_offset is not None:
                lag[tp.topic] += max(0, int(high) - int(next_offset))
    return lag


@app.timer(interval=1.0)
async def sample_operations() -> None:
    """Once a second: the events-per-second sample and the consumer lag gauge."""
    _events.sample()
    for topic, records in (await consumer_lag()).items():
        CONSUMER_LAG.labels(topic=topic).set(records)


@app.page(OPERATIONS_PATH)
class OperationsView(View):
    """Lag, throughput, dead letters and alerts of this worker."""

    async def get(self, request: Request) -> Response:
        rates = _events.rates()
        answer: dict[str, Any] = {
            "worker": str(app.conf.canonical_url),
            "generated_at": format_time(now_utc()),
            "consumer_lag": await consumer_lag(),
            "events_per_second": {topic: rates.get(topic, 0.0) for topic in INPUT_TOPICS},
            "dead_letters": dead_letter_summary(),
            "alerts": latest_alerts(),
        }
        return self.json(answer)
