"""Faust's Prometheus metrics, counted in plain integers per record and published per commit.

Faust calls its monitor for every record (``on_message_in``,
``on_stream_event_in``, ``on_stream_event_out``, ``on_message_out``), every
table read and write and every send. The stock ``PrometheusMonitor`` answers
each call with several locked metric updates, a label lookup (a regex for
the stream label) and the base monitor's own bookkeeping (timestamps, deques
of latencies): about eleven metric updates per record, a measurable share of
the per-record cost.

:class:`LeanPrometheusMonitor` keeps the same metrics under the same names,
but each per-record call only adds one to a dictionary entry; the counts are
moved into the Prometheus metrics once per offset commit (every few seconds:
:meth:`~LeanPrometheusMonitor.publish`), so a scrape sees them that much later.
Commits, rebalances, assignments and HTTP requests are rare and keep
Faust's handling. What is given up: per-record latency histograms
(``events_runtime_latency``, ``producer_send_latency``) and the
``active_messages`` / ``total_active_events`` gauges, which would need a
clock read or two locked updates per record.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.types import TP

__all__ = ["LeanPrometheusMonitor"]


class LeanPrometheusMonitor(PrometheusMonitor):
    """A ``PrometheusMonitor`` whose per-record hooks only count (see the module docstring)."""

    def __init__(self, metrics: FaustMetrics, **kwargs: Any) -> None:
        super().__init__(metrics=metrics, **kwargs)
        self._received: Counter[TP] = Counter()
        self._last_offset: dict[TP, int] = {}
        self._end_offset: dict[TP, int] = {}
        self._stream_events: Counter[Any] = Counter()
        self._table_ops: Counter[tuple[str, str]] = Counter()
        self._sent: Counter[str] = Counter()
        self._sent_ok = 0
        self._send_errors = 0

    @classmethod
    def replacing(cls, monitor: object) -> LeanPrometheusMonitor:
        """A lean monitor on the metrics ``setup_prometheus_sensors`` registered."""
        if not isinstance(monitor, PrometheusMonitor):
            raise TypeError(f"expected Faust's PrometheusMonitor, got {type(monitor).__name__}")
        return cls(metrics=monitor._metrics)

    # -- per record: count only -----------------------------------------------------------

    def on_message_in(self, tp: TP, offset: int, message: Any) -> None:
        self._received[tp] += 1
        self._last_offset[tp] = offset

    def on_stream_event_in(self, tp: TP, offset: int, stream: Any, event: Any) -> None:
        self._stream_events[stream] += 1

    def on_stream_event_out(
        self, tp: TP, offset: int, stream: Any, event: Any, state: Any = None
    ) -> None:
        return None

    def on_message_out(self, tp: TP, offset: int, message: Any) -> None:
        return None

    def on_table_get(self, table: Any, key: Any) -> None:
        self._table_ops[(table.name, self.KEYS_RETRIEVED)] += 1

    def on_table_set(self, table: Any, key: Any, value: Any) -> None:
        self._table_ops[(table.name, self.KEYS_UPDATED)] += 1

    def on_table_del(self, table: Any, key: Any) -> None:
        self._table_ops[(table.name, self.KEYS_DELETED)] += 1

    def on_send_initiated(
        self, producer: Any, topic: str, message: Any, keysize: int, valsize: int
    ) -> None:
        self._sent[topic] += 1

    def on_send_completed(self, producer: Any, state: Any, metadata: Any) -> None:
        self._sent_ok += 1

    def on_send_error(self, producer: Any, exc: BaseException, state: Any) -> None:
        self._send_errors += 1

    def track_tp_end_offset(self, tp: TP, offset: int) -> None:
        self._end_offset[tp] = offset

    # -- per commit: publish --------------------------------------------------------------

    def on_commit_completed(self, consumer: Any, state: Any) -> None:
        super().on_commit_completed(consumer, state)
        self.publish()

    def publish(self) -> None:
        """Move the counts gathered since the last call into the Prometheus metrics."""
        m = self._metrics
        received, self._received = self._received, Counter()
        for tp, count in received.items():
            m.messages_received.inc(count)
            m.messages_received_per_topics.labels(topic=tp.topic).inc(count)
        for tp, offset in self._last_offset.items():
            m.messages_received_per_topics_partition.labels(
                topic=tp.topic, partition=tp.partition
            ).set(offset)
        for tp, offset in self._end_offset.items():
            m.topic_partition_end_offset.labels(topic=tp.topic, partition=tp.partition).set(offset)
        events, self._stream_events = self._stream_events, Counter()
        for stream, count in events.items():
            m.total_events.inc(count)
            label = f"stream.{self._stream_label(stream)}.events"
            m.total_events_per_stream.labels(stream=label).inc(count)
        table_ops, self._table_ops = self._table_ops, Counter()
        for (table, operation), count in table_ops.items():
            m.table_operations.labels(table=f"table.{table}", operation=operation).inc(count)
        sent, self._sent = self._sent, Counter()
        for topic, count in sent.items():
            m.topic_messages_sent.labels(topic=f"topic.{topic}").inc(count)
        ok, self._sent_ok = self._sent_ok, 0
        errors, self._send_errors = self._send_errors, 0
        if ok:
            m.total_sent_messages.inc(ok)
        if errors:
            m.total_error_messages_sent.inc(errors)
