"""Real ``shopstream worker`` processes for the benchmarks, plus what we read off them.

Reuses the integration tests' :class:`WorkerProcess` (same start-up, same
``/ready`` wait; its ``module`` picks the plain CLI or the variant with
Faust's default RocksDB options) and adds what the benchmarks read off a
worker: time to ready, the process RSS and the recovery timings Faust writes
to the worker log.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tests.support.worker_process import WorkerProcess

__all__ = ["BenchWorker", "RecoveryLog", "parse_recovery_log"]

_STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")
_RESTORE_START = "Restoring state from changelog topics"
_RESTORE_DONE = "Done reading from changelog topics"
_READY = "Worker ready"


@dataclass(frozen=True, slots=True)
class RecoveryLog:
    """Seconds Faust spent reading changelogs, from its own log lines (None: no restore)."""

    restore_seconds: float | None
    restored: bool


def _stamp(line: str) -> datetime | None:
    match = _STAMP.match(line)
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f") if match else None


def parse_recovery_log(text: str) -> RecoveryLog:
    """From the first 'Restoring state' to the last 'Done reading' line of one start."""
    start = done = None
    for line in text.splitlines():
        if _RESTORE_START in line and start is None:
            start = _stamp(line)
        elif _RESTORE_DONE in line:
            done = _stamp(line)
    if start is None or done is None:
        return RecoveryLog(restore_seconds=None, restored=False)
    return RecoveryLog(restore_seconds=max(0.0, (done - start).total_seconds()), restored=True)


class BenchWorker(WorkerProcess):
    """A worker of the benchmarks: start-to-ready time, RSS and recovery timings."""

    def seconds_to_ready(self, timeout: float = 600.0) -> float:
        """Process start -> ``/ready`` 200 (includes interpreter start and preflight)."""
        self.wait_ready(timeout=timeout)
        if self.started_at is None:
            raise RuntimeError(f"{self.name} was never started")
        return time.monotonic() - self.started_at

    def recovery(self) -> RecoveryLog:
        return parse_recovery_log(self.log_since_start())

    def crashes(self) -> list[str]:
        """Agent crashes Faust logged since the start (a measurement with one is void)."""
        return [
            line[:300] for line in self.log_since_start().splitlines() if "Crashed reason=" in line
        ]

    @property
    def pid(self) -> int:
        """The worker's process id (it must have been started)."""
        if self.process is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.process.pid

    def rss_bytes(self) -> int:
        """Resident memory of the worker and any children it spawned."""
        import psutil

        root = psutil.Process(self.pid)
        total = int(root.memory_info().rss)
        for child in root.children(recursive=True):
            try:
                total += int(child.memory_info().rss)
            except psutil.NoSuchProcess:
                continue
        return total


def workdir_for(base: Path, name: str) -> Path:
    path = base / name
    path.mkdir(parents=True, exist_ok=True)
    return path
