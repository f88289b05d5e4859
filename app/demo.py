"""``make demo``: a local broker and schema registry (unless KAFKA_BROKER / SCHEMA_REGISTRY_URL
are set), a worker and the load generator, which sends part of its events framed.

Everything started here is a child of this process and is stopped, newest
first, on Ctrl-C or SIGTERM, so a demo leaves nothing running behind it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from app.settings import SettingsError, load_settings

if TYPE_CHECKING:
    from localservices.registry import LocalSchemaRegistry

__all__ = ["main"]

#: Offered load of the demo's load generator (events/s): lively charts, idle CPU.
DEMO_RATE = os.environ.get("SHOPSTREAM_DEMO_RATE", "40")
#: Share of the demo's events sent in the Confluent wire format, beside plain JSON.
DEMO_FRAMED_SHARE = "0.3"
#: The schema registry's usual port; another free one when it is taken.
REGISTRY_PORT = 8081


def _start_registry() -> LocalSchemaRegistry:
    from localservices.kafka.errors import LocalKafkaError
    from localservices.registry import LocalSchemaRegistry, RegistryStartError

    print("starting a local schema registry (Apicurio; first run fetches it with Maven) ...")
    try:
        try:
            return LocalSchemaRegistry(port=REGISTRY_PORT).start()
        except RegistryStartError as exc:
            if "already in use" not in str(exc):
                raise
            return LocalSchemaRegistry().start()
    except LocalKafkaError as exc:
        raise SystemExit(f"shopstream demo: {exc}") from None


def _wait_ready(url: str, worker: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise SystemExit(f"shopstream demo: the worker exited ({worker.returncode}):\n{tail}")
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(f"{url}/ready", timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.5)
    raise SystemExit(f"shopstream demo: the worker was not ready after {timeout:g}s (log: {log})")


def _stop(process: subprocess.Popen[bytes] | None, timeout: float = 20.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise SystemExit(f"shopstream demo: {exc}") from None
    settings.datadir.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))

    cluster = registry = None
    worker = simulator = None
    env = dict(os.environ)
    # Worker-to-worker paths need the group's secret; the demo makes one up per run.
    env.setdefault("SHOPSTREAM_CLUSTER_TOKEN", secrets.token_urlsafe(24))
    try:
        if settings.kafka_broker is None:
            from app.kafka.local_broker import LocalBrokerError, start_demo_broker

            print("starting a local Apache Kafka broker (first run fetches it with Maven) ...")
            try:
                cluster, broker_url = start_demo_broker(settings)
            except LocalBrokerError as exc:
                raise SystemExit(f"shopstream demo: {exc}") from None
            env["KAFKA_BROKER"] = broker_url
        else:
            broker_url = settings.kafka_broker
        print(f"broker:  {broker_url}")
        if settings.schema_registry_url is None:
            registry = _start_registry()
            env["SCHEMA_REGISTRY_URL"] = registry.url
        print(f"schemas: {env['SCHEMA_REGISTRY_URL']}")

        log = settings.datadir / "demo-worker.log"
        with log.open("ab") as log_file:
            worker = subprocess.Popen(
                [sys.executable, "-m", "app", "worker", "--loglevel", "info"],
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        url = f"http://{settings.web_host}:{settings.web_port}"
        print(f"worker:  starting (log: {log}) ...")
        _wait_ready(url, worker, log, timeout=180)

        simulator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app",
                "simulate",
                "--rate",
                DEMO_RATE,
                "--duration",
                "86400",
                "--no-progress",
                "--framed-share",
                DEMO_FRAMED_SHARE,
            ],
            env=env,
        )
        print(
            f"\n  Dashboard: {url}/\n  Orders:    {url}/orders/<order_id>\n"
            f"  Metrics:   {url}/metrics\n\nPress Ctrl-C to stop everything.\n",
            flush=True,
        )
        while True:
            if worker.poll() is not None:
                raise SystemExit(
                    f"shopstream demo: the worker exited ({worker.returncode}); log: {log}"
                )
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping ...")
    finally:
        _stop(simulator)
        _stop(worker)
        if registry is not None:
            registry.stop()
        if cluster is not None:
            cluster.stop()
        print("stopped.")


if __name__ == "__main__":
    main()
