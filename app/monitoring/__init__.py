"""What ShopStream tells its operators: Prometheus metrics, served at ``GET /metrics``.

:mod:`~app.monitoring.metrics` holds the pipeline's own metrics;
:mod:`~app.monitoring.analytics_metrics` those of the analytics engine.

May import: :mod:`app.kafka.topic_names`, :mod:`domain`; nothing that starts Faust.
"""
