"""The OpenAPI document is the truth: a live worker answers exactly as ``GET /openapi.json`` says.

Given one worker with the cluster token set (as in production) and a few
hundred shop events of the last minutes, when Schemathesis generates requests
from the worker's own ``/openapi.json`` (examples, coverage and fuzzing phases;
every check but the authorization ones; the token sent as a client of the
group would), then it finds nothing: no 5xx but the documented 504 of a wait
that timed out, no undocumented status, no answer off its schema, no
schema-valid request refused and no schema-violating one accepted. One run
has a fixed seed (the same requests every time), one a random seed (printed,
so a failure can be replayed with ``--seed``); a longer run is marked slow.
Settings: ``tests/integration/schemathesis.toml``; hooks:
``tests/support/schemathesis_hooks.py`` (long-poll waits cut to 0.2 s).

The dashboard's event stream never ends, which a request/response tool cannot
judge; it is checked here directly: each event's data is a DashboardSnapshot.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator

from loadgen import SimulationOptions, run_simulation
from tests.conftest import BrokerAddress
from tests.support.worker_process import ROOT, WorkerProcess

CLUSTER_TOKEN = "conformance-test-token-0123456789"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")
#: Generated cases per operation and phase: quick in ``make test``, thorough when slow.
QUICK_EXAMPLES = 25
RANDOM_EXAMPLES = 20
SLOW_EXAMPLES = 300
FIXED_SEED = 20261201


@pytest.fixture(scope="module")
def worker(
    kafka_broker: BrokerAddress, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    """One worker for the module, with the token, and shop activity of the last minutes."""
    import asyncio

    workdir = tmp_path_factory.mktemp("conformance")
    process = WorkerProcess(
        broker_url=kafka_broker.url,
        workdir=workdir,
        app_id=f"shopstream-test-conformance-{os.getpid()}",
        env={"SHOPSTREAM_CLUSTER_TOKEN": CLUSTER_TOKEN},
    ).start()
    try:
        process.wait_ready()
        options = SimulationOptions(count=200, rate=0, seed=7, brokers=kafka_broker.bootstrap)
        asyncio.run(run_simulation(options))
        yield process
    finally:
        process.stop()


def _schemathesis(worker: WorkerProcess, *options: str) -> None:
    """Run the Schemathesis CLI against the worker; fail with its report if it finds anything."""
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{worker.base_url}/openapi.json",
        "--header",
        f"X-ShopStream-Cluster-Token:{CLUSTER_TOKEN}",
        "--exclude-path",
        "/dashboard/events",  # endless: checked by test_dashboard_events_are_dashboard_snapshots
        "--request-timeout",
        "10",
        "--workers",
        "2",
        *options,
    ]
    result = subprocess.run(
        command,
        cwd=worker.log_path.parent,  # Schemathesis writes .schemathesis/ here, not in the repo
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SCHEMATHESIS_HOOKS": "tests.support.schemathesis_hooks",
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = result.stdout[-6000:] + result.stderr[-2000:]
    print(report)
    assert result.returncode == 0, (
        f"Schemathesis found problems:\n{report}\nworker log:\n{worker.log_tail(30)}"
    )


def test_the_api_answers_as_documented_with_a_fixed_seed(worker: WorkerProcess) -> None:
    _schemathesis(worker, "--seed", str(FIXED_SEED), "--max-examples", str(QUICK_EXAMPLES))


def test_the_api_answers_as_documented_with_a_random_seed(worker: WorkerProcess) -> None:
    # Examples and coverage cases do not depend on the seed: the fixed run had them.
    _schemathesis(worker, "--phases", "fuzzing", "--max-examples", str(RANDOM_EXAMPLES))


@pytest.mark.slow
def test_the_api_answers_as_documented_in_a_long_run(worker: WorkerProcess) -> None:
    _schemathesis(worker, "--max-examples", str(SLOW_EXAMPLES))


def _snapshot_validator(document: dict[str, Any]) -> Draft202012Validator:
    schema = {**document, "$ref": "#/components/schemas/DashboardSnapshot"}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_dashboard_events_are_dashboard_snapshots(worker: WorkerProcess) -> None:
    _, document = worker.get("/openapi.json")
    validator = _snapshot_validator(document)
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    with urllib.request.urlopen(f"{worker.base_url}/dashboard/events", timeout=10) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        while len(events) < 2 and time.monotonic() < deadline:
            line = stream.readline().decode()
            if line.startswith("data: "):
                events.append(orjson.loads(line.removeprefix("data: ")))
    assert len(events) == 2
    for event in events:
        problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(event)]
        assert not problems, problems
    assert events[-1]["order_status"]["total"] > 0, "the shop activity is not counted yet"
