"""Run a local Kafka in the foreground until Ctrl-C or SIGTERM (``python -m localservices.kafka``).

Stdout carries exactly one line, ``KAFKA_BROKER=kafka://127.0.0.1:PORT[;...]``,
printed when the brokers answer metadata, so a script or the ``shopstream
kafka`` command can wait for it and export it; everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from localservices.foreground import stopping_on_signals
from localservices.kafka.cluster import LocalKafkaCluster
from localservices.kafka.distribution import ensure_distribution
from localservices.kafka.errors import LocalKafkaError

__all__ = ["build_parser", "fetch_only", "main", "run_foreground"]


def run_foreground(
    port: int | None = None,
    brokers: int = 1,
    datadir: str | None = None,
    partitions: int = 4,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Start the broker(s), print ``KAFKA_BROKER=...``, block until a signal, stop.

    Returns a process exit code: 0 after a requested stop, 1 when the brokers
    could not start or a node died while running. Must run in the main thread
    (it installs SIGINT and SIGTERM handlers, restored on return).
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    cluster = LocalKafkaCluster(brokers, partitions=partitions, data_dir=datadir, port=port)
    try:
        with stopping_on_signals(cluster.stop):
            cluster.start()
            print(f"KAFKA_BROKER={cluster.url}", file=out, flush=True)
            where = datadir if datadir is not None else f"{cluster.data_dir} (temporary)"
            print(
                f"localkafka: {brokers} broker(s) ready in {cluster.startup_seconds:.1f} s; "
                f"bootstrap {cluster.bootstrap_servers}; data {where}; Ctrl-C to stop",
                file=err,
                flush=True,
            )
            while True:
                time.sleep(1.0)
                dead = [i for i in cluster.node_ids if not cluster.is_node_running(i)]
                if dead:
                    logs = ", ".join(str(cluster.log_file(i)) for i in dead)
                    print(f"localkafka: node(s) {dead} exited; see {logs}", file=err, flush=True)
                    return 1
    except LocalKafkaError as exc:
        print(f"localkafka: {exc}", file=err, flush=True)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m localservices.kafka",
        description="Run a local Apache Kafka (KRaft) until Ctrl-C.",
    )
    parser.add_argument(
        "--port", type=int, default=None, help="broker port of node 1 (default: a free port)"
    )
    parser.add_argument("--brokers", type=int, default=1, help="number of nodes (default: 1)")
    parser.add_argument(
        "--datadir", default=None, help="keep data here across runs (default: a temp dir)"
    )
    parser.add_argument(
        "--partitions", type=int, default=4, help="partitions of auto-created topics (default 4)"
    )
    parser.add_argument(
        "--fetch-only",
        action="store_true",
        help="only check java/mvn and fetch Kafka into the cache, then exit",
    )
    return parser


def fetch_only(*, stderr: TextIO | None = None) -> int:
    """Check the prerequisites and fill the cache (``make setup``); no broker is started."""
    err = stderr if stderr is not None else sys.stderr
    try:
        dist = ensure_distribution()
    except LocalKafkaError as exc:
        print(f"localkafka: {exc}", file=err, flush=True)
        return 1
    print(f"localkafka: Apache Kafka {dist.version} is in {dist.home}", file=err, flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.fetch_only:
        return fetch_only()
    if args.brokers < 1 or args.partitions < 1:
        print("localkafka: --brokers and --partitions must be >= 1", file=sys.stderr)
        return 2
    return run_foreground(args.port, args.brokers, args.datadir, args.partitions)
