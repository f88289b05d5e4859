"""Integration fixtures: real worker processes against the session broker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import BrokerAddress
from tests.support.worker_process import WorkerProcess

pytestmark = pytest.mark.integration


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def start_worker(
    kafka_broker: BrokerAddress, tmp_path: Path, unique: str
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start workers of one consumer group (one app id per test); all are killed after.

    Killed, not stopped: a graceful Faust shutdown takes seconds per worker and
    nothing after the test reads what it would leave (the group and the data
    directory are the test's own). Tests that need a clean stop call ``stop()``.
    """
    started: list[WorkerProcess] = []

    def start(name: str = "worker", module: str = "app", **env: str) -> WorkerProcess:
        worker = WorkerProcess(
            broker_url=kafka_broker.url,
            workdir=tmp_path,
            app_id=f"shopstream-test-{unique}",
            env=env,
            name=name,
            module=module,
        ).start()
        started.append(worker)
        return worker

    yield start
    for worker in reversed(started):
        worker.kill()
