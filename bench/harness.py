"""What every benchmark shares: the broker, fresh topics, workers, peers as subprocesses."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.kafka.topic_names import INPUT_TOPICS, internal_topics
from bench.config import BenchConfig
from bench.kafka import GroupProgress, create_topics, reset_topics
from bench.workers import BenchWorker

__all__ = ["Harness"]

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Harness:
    """One broker for the whole run; each measurement gets fresh topics and a fresh group."""

    config: BenchConfig
    bootstrap: str
    url: str
    notes: list[str] = field(default_factory=list)
    #: The broker's JVMs (their CPU share is reported beside the latency figures).
    broker_pids: tuple[int, ...] = ()

    def log(self, message: str) -> None:
        print(f"[bench] {message}", flush=True)

    def note(self, message: str) -> None:
        """Something the reader of the results must know (also printed now)."""
        self.log(f"NOTE: {message}")
        self.notes.append(message)

    def report_crashes(self, what: str, workers: Sequence[BenchWorker]) -> bool:
        """Note agent crashes in the workers' logs; True when there were any."""
        crashes = [line for worker in workers for line in worker.crashes()]
        if crashes:
            self.note(
                f"{what}: {len(crashes)} agent crash(es) in the worker log, first: {crashes[0]}"
            )
        return bool(crashes)

    def void_if_crashed(
        self, what: str, workers: Sequence[BenchWorker], value: float | None
    ) -> float | None:
        """A figure measured while an agent crashed and restarted is not a figure: drop it."""
        if not self.report_crashes(f"{what} (value {value} dropped)", workers):
            return value
        return None

    def new_app_id(self, name: str) -> str:
        return f"bench-{name}-{uuid.uuid4().hex[:6]}"

    def progress(self, app_id: str, counted: Sequence[str]) -> GroupProgress:
        """The committed progress of ``app_id``'s group on ``counted`` and its internal topics."""
        return GroupProgress(
            self.bootstrap,
            app_id,
            counted=tuple(counted),
            also_drained=internal_topics(app_id),
            partitions=self.config.partitions,
        )

    def workdir(self, app_id: str) -> Path:
        path = self.config.work_dir / app_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    async def fresh_topics(self, partitions: int | None = None) -> None:
        """Delete every topic of earlier runs and create the input topics empty."""
        await reset_topics(self.bootstrap)
        await create_topics(self.bootstrap, INPUT_TOPICS, partitions or self.config.partitions)

    def worker(
        self,
        app_id: str,
        *,
        name: str = "worker",
        module: str = "app",
        partitions: int | None = None,
        env: dict[str, str] | None = None,
    ) -> BenchWorker:
        return BenchWorker(
            module=module,
            broker_url=self.url,
            workdir=self.workdir(app_id),
            app_id=app_id,
            partitions=partitions or self.config.partitions,
            env=env or {},
            name=name,
        )

    @contextlib.contextmanager
    def running(self, *workers: BenchWorker) -> Iterator[tuple[BenchWorker, ...]]:
        """Start the workers; always stop them (and keep their logs) afterwards."""
        try:
            for worker in workers:
                worker.start()
            yield workers
        finally:
            for worker in reversed(workers):
                worker.stop()

    def peer(self, module: str, *args: str, timeout: float = 900.0) -> dict[str, Any]:
        """Run ``python -m MODULE ARGS`` and read its one-line JSON result."""
        result = subprocess.run(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{module} failed ({result.returncode}):\n{result.stderr[-3000:]}")
        lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
        found = dict(json.loads(lines[-1]))
        self.log(f"{module}: {found}")
        return found

    def cleanup(self, app_id: str) -> None:
        """Drop a run's RocksDB data (logs stay for a post-mortem)."""
        for data in self.workdir(app_id).glob("*-data"):
            shutil.rmtree(data, ignore_errors=True)
