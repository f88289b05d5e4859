"""A real Apicurio Registry on a free loopback port, for tests, the demo and the benchmarks.

    from localservices.registry import LocalSchemaRegistry

    with LocalSchemaRegistry() as registry:
        registry.url  # http://127.0.0.1:PORT/apis/ccompat/v7 (Confluent-compatible API)

``start()`` returns once the Confluent-compatible API answers; ``stop()``
never leaves the JVM behind (the process machinery of the Kafka launcher:
own process group, killed with its parent, stopped at exit and on SIGTERM).
Storage is Apicurio's in-memory default: every start is an empty registry.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

from localservices.kafka.classarchive import ClassArchive
from localservices.kafka.config import LOOPBACK, free_ports
from localservices.kafka.layout import is_port_free, make_temp_dir
from localservices.kafka.process import JavaProcess, read_tail, register_cleanup, unregister_cleanup
from localservices.registry.distribution import (
    APICURIO_VERSION,
    ApicurioDistribution,
    ensure_apicurio,
)
from localservices.registry.errors import RegistryExited, RegistryStartError
from localservices.service import LocalService

__all__ = ["CCOMPAT_PATH", "LocalSchemaRegistry"]

#: Where Apicurio serves the Confluent Schema Registry API (clients need it in the URL).
CCOMPAT_PATH = "/apis/ccompat/v7"
_PORT_RETRIES = 3  # a free port is released before the JVM binds it: retry a lost race


def _answers(url: str) -> bool:
    """True when ``GET url`` answers 200 (the API is up, not just the port)."""
    try:
        with urllib.request.urlopen(url, timeout=1.5) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


class LocalSchemaRegistry(LocalService):
    """Start and stop one Apicurio Registry JVM (``-Xmx256m``, ~220 MiB RSS, ~6 s start)."""

    def __init__(
        self,
        *,
        port: int | None = None,
        heap: str = "256m",
        start_timeout: float = 90.0,
        stop_timeout: float = 15.0,
        version: str = APICURIO_VERSION,
        cache_root: str | Path | None = None,
    ) -> None:
        self.requested_port = port
        self.heap = heap
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.version = version
        self.cache_root = cache_root
        self.port: int | None = None
        self.startup_seconds: float | None = None  # JVM spawn -> API answers
        self._base: Path | None = None
        self._dist: ApicurioDistribution | None = None
        self._archive: ClassArchive | None = None
        self._proc: JavaProcess | None = None

    @property
    def started(self) -> bool:
        return self._proc is not None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (Apicurio's own API and UI live below it)."""
        if self.port is None:
            raise RegistryStartError("the registry is not started")
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """The Confluent-compatible API, the value for ``SCHEMA_REGISTRY_URL``."""
        return self.base_url + CCOMPAT_PATH

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    @property
    def log_file(self) -> Path:
        if self._base is None:
            raise RegistryStartError("the registry is not started")
        return self._base / "registry.log"

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def start(self) -> LocalSchemaRegistry:
        """Fetch Apicurio if needed, start it, wait until its API answers."""
        if self.started:
            return self
        self._dist = ensure_apicurio(self.version, self.cache_root)
        if self._archive is None or self._archive.path != self._dist.class_archive:
            self._archive = ClassArchive(self._dist.class_archive)
        self._base = make_temp_dir()
        register_cleanup(self)
        try:
            self._start_with_retries()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_with_retries(self) -> None:
        for attempt in range(_PORT_RETRIES):
            self.port = self._choose_port()
            spawned = time.monotonic()
            self._spawn()
            try:
                self._wait_ready()
            except RegistryExited as exc:
                lost_race = self.requested_port is None and "Address already in use" in str(exc)
                if not lost_race or attempt == _PORT_RETRIES - 1:
                    raise
                self._terminate()
                continue
            self.startup_seconds = time.monotonic() - spawned
            return

    def _choose_port(self) -> int:
        if self.requested_port is None:
            return free_ports(1)[0]
        if not is_port_free(self.requested_port):
            raise RegistryStartError(f"port {self.requested_port} on {LOOPBACK} is already in use")
        return self.requested_port

    def _spawn(self) -> None:
        if self._dist is None or self._base is None or self._archive is None:
            raise RegistryStartError("the registry is not started")
        argv = [
            self._dist.java,
            *self._archive.options(may_write=True),
            f"-Xmx{self.heap}",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
            f"-Dquarkus.http.host={LOOPBACK}",
            f"-Dquarkus.http.port={self.port}",
            "-Dquarkus.log.console.level=WARN",
            "-Dquarkus.log.file.enable=false",
            "-jar",
            str(self._dist.runner_jar),
        ]
        self._proc = JavaProcess(argv, console_file=self.log_file, cwd=self._base)
        self._proc.start()
        self._archive.track(self._proc)

    def _wait_ready(self) -> None:
        probe = self.url + "/subjects"
        deadline = time.monotonic() + self.start_timeout
        while not _answers(probe):
            if self._proc is None or not self._proc.is_alive():
                code = self._proc.returncode if self._proc is not None else None
                raise RegistryExited(
                    f"Apicurio Registry exited (code {code}) while starting:\n"
                    + read_tail([self.log_file], 25)
                )
            if time.monotonic() > deadline:
                raise RegistryStartError(
                    f"Apicurio Registry did not answer {probe} within {self.start_timeout:.0f} s:\n"
                    + read_tail([self.log_file], 25)
                )
            time.sleep(0.2)

    def _terminate(self) -> None:
        if self._proc is not None:
            self._proc.stop(self.stop_timeout)
            self._proc = None
        if self._archive is not None:
            self._archive.publish()

    def stop(self) -> None:
        """Stop the JVM (SIGTERM, SIGKILL after ``stop_timeout``); idempotent."""
        self._terminate()
        unregister_cleanup(self)
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
            self._base = None

    def pause(self) -> None:
        """SIGSTOP the JVM: the port stays open but nothing answers, as in an outage.

        Unlike a restart this keeps the in-memory schemas, so a test can show
        that records wait while the registry is down and pass once it is back.
        """
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        self._signal(signal.SIGCONT)

    def _signal(self, signum: int) -> None:
        if self._proc is None or self._proc.pid is None or not self._proc.is_alive():
            raise RegistryStartError("the registry is not running")
        os.killpg(self._proc.pid, signum)  # own session: pgid == pid

    def __repr__(self) -> str:
        where = self.url if self.port is not None else "not started"
        return f"<LocalSchemaRegistry {where}>"
