"""Real ShopStream worker processes for integration tests.

A worker is started exactly as a user starts it (``python -m app worker``) with
its own web port, data directory and log file; the helper waits on ``/ready``
and, on failure, shows the tail of the worker's log so a red test says why.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

__all__ = ["WorkerProcess", "free_port", "http_get", "shopstream", "shopstream_run"]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str, *, timeout: float = 10.0) -> tuple[int, Any]:
    """GET a JSON endpoint; returns (status, decoded body or raw text)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    try:
        return status, orjson.loads(body)
    except orjson.JSONDecodeError:
        return status, body.decode("utf-8", "replace")


def shopstream_run(
    *args: str, env: Mapping[str, str], timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run ``shopstream ARGS`` as a user would (no terminal); returns the finished process."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def shopstream(*args: str, env: Mapping[str, str], timeout: float = 60.0) -> str:
    """Run ``shopstream ARGS`` as a user would; returns stdout, raises on failure."""
    result = shopstream_run(*args, env=env, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(
            f"shopstream {' '.join(args)} failed ({result.returncode}):\n{result.stderr}"
        )
    return result.stdout


class WorkerProcess:
    """One ``shopstream worker`` subprocess with its own port, datadir and log."""

    def __init__(
        self,
        *,
        broker_url: str,
        workdir: Path,
        app_id: str,
        partitions: int = 4,
        env: Mapping[str, str] | None = None,
        name: str = "worker",
        module: str = "app",
    ) -> None:
        self.name = name
        #: ``python -m MODULE worker``: the CLI, or a variant of it (the benchmarks').
        self.module = module
        #: When the last start began, and where its output begins in the (appended) log.
        self.started_at: float | None = None
        self.log_offset = 0
        #: How many times :meth:`start` ran (each start after the first is a restart).
        self.starts = 0
        self.port = free_port()
        self.datadir = workdir / f"{name}-data"
        self.log_path = workdir / f"{name}.log"
        self.env = {
            **os.environ,
            "KAFKA_BROKER": broker_url,
            "SHOPSTREAM_APP_ID": app_id,
            "SHOPSTREAM_WEB_PORT": str(self.port),
            "SHOPSTREAM_DATADIR": str(self.datadir),
            "SHOPSTREAM_PARTITIONS": str(partitions),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WorkerProcess:
        """Start the worker process; again after ``kill()`` or ``stop()``: a restart.

        A restart is what a supervisor does: the same port, data directory and
        environment; the log goes on in the same file after a line marking the start.
        """
        self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"---- {self.name}: start {self.starts} ----\n".encode())
        log.flush()
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, "worker", "--loglevel", "info"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    def wait_ready(self, timeout: float = 90.0) -> float:
        """Block until ``/ready`` answers 200; returns the seconds it took."""
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError):
                status, _ = http_get(f"{self.base_url}/ready", timeout=2.0)
                if status == 200:
                    return time.monotonic() - started
            time.sleep(0.25)
        raise TimeoutError(f"{self.name} not ready after {timeout:g}s:\n{self.log_tail()}")

    def get(self, path: str, *, timeout: float = 90.0) -> tuple[int, Any]:
        """GET a path; the timeout covers ``?wait_for=...&timeout=...`` waits."""
        return http_get(f"{self.base_url}{path}", timeout=timeout)

    def log_since_start(self) -> str:
        """The log of the last start only (a restarted worker's log goes on in one file)."""
        with self.log_path.open("rb") as handle:
            handle.seek(self.log_offset)
            return handle.read().decode("utf-8", "replace")

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, not a shutdown."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 30.0) -> None:
        """Graceful stop (SIGTERM), escalating to SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> WorkerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
