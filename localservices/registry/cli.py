"""Run a local schema registry in the foreground (``python -m localservices.registry``).

Stdout carries exactly one line, ``SCHEMA_REGISTRY_URL=http://127.0.0.1:PORT/apis/ccompat/v7``,
printed when the API answers, so a script can wait for it and export it;
everything else goes to stderr. ``--fetch-only`` fills the cache (``make setup``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from localservices.foreground import stopping_on_signals
from localservices.kafka.errors import LocalKafkaError
from localservices.registry.distribution import ensure_apicurio
from localservices.registry.server import LocalSchemaRegistry

__all__ = ["main"]


def _fetch_only() -> int:
    try:
        dist = ensure_apicurio()
    except LocalKafkaError as exc:
        print(f"localservices.registry: {exc}", file=sys.stderr, flush=True)
        return 1
    print(
        f"localservices.registry: Apicurio Registry {dist.version} is in {dist.home}",
        file=sys.stderr,
        flush=True,
    )
    return 0


def _run(port: int | None) -> int:
    registry = LocalSchemaRegistry(port=port)
    try:
        with stopping_on_signals(registry.stop):
            registry.start()
            print(f"SCHEMA_REGISTRY_URL={registry.url}", flush=True)
            print(
                f"localservices.registry: ready in {registry.startup_seconds:.1f} s; "
                "Ctrl-C to stop",
                file=sys.stderr,
                flush=True,
            )
            while registry.is_running():
                time.sleep(1.0)
            print("localservices.registry: the registry exited", file=sys.stderr, flush=True)
            return 1
    except LocalKafkaError as exc:
        print(f"localservices.registry: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m localservices.registry",
        description="Run a local Apicurio Registry (Confluent-compatible API) until Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=None, help="HTTP port (default: a free one)")
    parser.add_argument(
        "--fetch-only", action="store_true", help="only fetch Apicurio into the cache, then exit"
    )
    args = parser.parse_args(argv)
    return _fetch_only() if args.fetch_only else _run(args.port)
