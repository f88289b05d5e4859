"""The ceiling of a Faust agent: one agent that does nothing with each record.

``python -m bench.peers.faust_noop --broker kafka://HOST:PORT --topic clickstream --count N
[--shopstream] --datadir DIR``

Stock: a plain ``faust.App`` with Faust's defaults (asyncio loop, default
monitor, no patches). ``--shopstream``: the same App with what ShopStream's
worker runs with: its Faust patches (:mod:`app.faust_patches`), the uvloop
event loop, the lean monitor (:mod:`app.monitoring.faust_monitor`) and the
agent's records delivered a fetch at a time to a batch handler that does
nothing with them (:mod:`app.faust_patches.batch_delivery`, as ShopStream's
agents are). The rate is timed from the first record to the ``count``-th;
the result is one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from typing import Any

import orjson


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--broker", required=True, help="kafka://HOST:PORT")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--datadir", required=True)
    parser.add_argument("--shopstream", action="store_true", help="with ShopStream's fixes")
    parser.add_argument(
        "--without",
        default="",
        help="with --shopstream: leave out some of uvloop,lean_monitor,batch_delivery (comma list)",
    )
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    without = {name.strip() for name in args.without.split(",") if name.strip()}
    if args.shopstream and "uvloop" not in without:
        os.environ.setdefault("FAUST_LOOP", "uvloop")  # read by `import faust`
    import faust

    monitor: Any = None
    if args.shopstream:
        from faust.sensors.prometheus import FaustMetrics
        from prometheus_client import CollectorRegistry

        from app.faust_patches import install
        from app.kafka import fatal
        from app.monitoring.faust_monitor import LeanPrometheusMonitor

        install(fatal)
        if "lean_monitor" not in without:
            monitor = LeanPrometheusMonitor(FaustMetrics.create(CollectorRegistry(), "faust"))
    app = faust.App(
        f"bench-noop-{uuid.uuid4().hex[:6]}",
        broker=args.broker,
        datadir=args.datadir,
        consumer_auto_offset_reset="earliest",
        topic_disable_leader=True,
        web_enabled=False,
        **({"monitor": monitor} if monitor is not None else {}),
    )
    topic = app.topic(args.topic, value_serializer="raw", key_serializer="raw")
    seen = 0
    started = 0.0

    first = 0

    def count(records: int) -> None:
        """Time from the first delivery (a record, or a batch) on; its records are not counted."""
        nonlocal seen, started, first
        if seen == 0:
            started, first = time.perf_counter(), records
        seen += records
        if seen >= args.count:
            seconds = time.perf_counter() - started
            rate = (seen - first) / seconds
            result = {"events": seen, "seconds": seconds, "rate": rate}
            # on a line of its own: the worker writes terminal control codes to stdout
            sys.stdout.write("\n" + orjson.dumps(result).decode() + "\n")
            sys.stdout.flush()
            os._exit(0)  # the figure is out; a graceful stop would only add time

    @app.agent(topic)
    async def do_nothing(stream: Any) -> None:
        async for _value in stream:
            count(1)

    if args.shopstream and "batch_delivery" not in without:
        from app.faust_patches.batch_delivery import deliver_in_batches

        async def do_nothing_per_batch(events: Any) -> None:
            count(len(events))

        deliver_in_batches(app, do_nothing, do_nothing_per_batch)

    worker = faust.Worker(app, loglevel="WARNING", quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
