"""The one Faust App of ShopStream.

Everything that builds the App lives here: settings come from
:mod:`app.settings`, topics from :mod:`app.kafka.topics`, and the agents, tables,
views and commands are found by autodiscovery (see ``DISCOVERED_MODULES``) so
that importing this module stays cheap and free of import cycles.
"""

from __future__ import annotations

import faust

from app import faust_patches
from app.kafka import fatal
from app.settings import load_settings
from tables.options import install_shared_memory

__all__ = ["DISCOVERED_MODULES", "app", "settings"]

settings = load_settings()
# Before any producer exists: commits wait for table updates, and stop for good after a
# failure Faust would otherwise survive by acknowledging the record (app.kafka.fatal).
faust_patches.install(fatal)
install_shared_memory()  # before any table opens: one RocksDB cache and write budget per process

#: Modules that register agents, tables, web views and commands on the App.
DISCOVERED_MODULES = ["agents", "tables", "app.web", "app.commands", "app.schemas.commands"]

#: Used when nothing resolved a broker (unit tests with ``agent.test_context()``).
_UNRESOLVED_BROKER = "kafka://127.0.0.1:9092"

app = faust.App(
    settings.app_id,
    origin="app",
    autodiscover=DISCOVERED_MODULES,
    broker=settings.kafka_broker or _UNRESOLVED_BROKER,
    store="rocksdb://",
    datadir=str(settings.datadir),
    # Topics: partition count from settings; keys are plain UTF-8 strings (DESIGN.md).
    topic_partitions=settings.partitions,
    topic_replication_factor=settings.replication_factor,
    key_serializer="raw",
    value_serializer="json",
    # Delivery: no acknowledged event may be lost (FAUST_NOTES: concurrency 1 per agent).
    producer_acks=-1,
    # Throughput: wait up to 5 ms to fill produce requests. Every table write is
    # a changelog message; one request per message cost a third of the CPU.
    producer_linger=0.005,
    # Fetch: up to 4 MiB per partition (Faust's default is 1 MiB). aiokafka asks the broker
    # for more only once everything fetched was handed out, and the answer (then read by
    # Faust's consumer thread beside a busy main thread) took longer than handling 1 MiB per
    # partition did: the handler sat idle half the time (probe). Clickstream drain of 300k
    # on one worker: 25,947 -> 46,070 clicks/s (2 MiB: 40,412; 8 MiB: 47,474); peak RSS
    # 171 -> 261 MB. aiokafka's 50 MiB cap per fetch still bounds many partitions.
    consumer_max_fetch_size=4 * 1024 * 1024,
    processing_guarantee="at_least_once",
    table_standby_replicas=settings.standby_replicas,
    consumer_auto_offset_reset="earliest",
    # A killed worker leaves the group after 10 s instead of Faust's 60 s: its
    # partitions (warm on standbys) move that much sooner.
    broker_session_timeout=10.0,
    broker_heartbeat_interval=2.0,
    # Static membership when SHOPSTREAM_INSTANCE_ID is set: a SIGKILLed worker restarted
    # under the same id is handed its partitions back at once instead of after the 10 s
    # session timeout; a stopped one keeps them until that timeout (README, Configuration).
    consumer_group_instance_id=settings.instance_id,
    # Web: our own views only; Faust's raw table dumps and stats stay private.
    web_enabled=True,
    # Faust's aiohttp driver without its index at `/` (the dashboard's; app/web/driver.py).
    web="shopstream://",
    web_host=settings.web_host,
    web_bind=settings.web_host,
    web_port=settings.web_port,
    web_tables_enabled=False,
    web_stats_enabled=False,
    web_graph_enabled=False,
    web_metrics_enabled=False,
    web_router_enabled=True,
    canonical_url=settings.canonical_url,
)


@app.task
async def watch_the_event_loop() -> None:
    """Log what held the worker's event loop whenever it stops turning for a second."""
    import asyncio

    from app.monitoring.loop_watchdog import LoopWatchdog

    watchdog = LoopWatchdog(asyncio.get_running_loop())
    watchdog.start()
    try:
        await asyncio.Event().wait()  # until the worker stops and cancels this task
    finally:
        watchdog.stop()
