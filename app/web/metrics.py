"""``GET /metrics``: Prometheus text format, Faust's sensor metrics and ShopStream's own.

``setup_prometheus_sensors`` does two things: it installs Faust's
``PrometheusMonitor`` as the App's monitor (so messages, events, table
operations, commits, rebalances and HTTP latency are counted) and it registers
the one ``/metrics`` page, which renders the whole registry it is given. The
monitor is then swapped for :class:`~app.monitoring.faust_monitor.LeanPrometheusMonitor`:
the same metrics without a dozen locked updates per record. The
App keeps ``web_metrics_enabled=False`` (Faust's JSON ``/performance`` page),
so this is the only metrics route.

The metric prefix is the fixed ``faust`` rather than the App id: the App id
changes per deployment and per test run, and dashboards and alerts need stable
names (Prometheus' ``job``/``instance`` labels tell deployments apart).
"""

from __future__ import annotations

from faust.sensors.prometheus import setup_prometheus_sensors

from app.main import app
from app.monitoring import metrics as shop_metrics
from app.monitoring.faust_monitor import LeanPrometheusMonitor

__all__ = ["FAUST_METRIC_PREFIX", "METRICS_PATH"]

METRICS_PATH = "/metrics"
FAUST_METRIC_PREFIX = "faust"

setup_prometheus_sensors(
    app,
    pattern=METRICS_PATH,
    registry=shop_metrics.METRICS_REGISTRY,
    name_prefix=FAUST_METRIC_PREFIX,
)
# The same metrics, counted per record in plain integers and published per commit.
app.monitor = LeanPrometheusMonitor.replacing(app.monitor)
