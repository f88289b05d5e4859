"""Worker crashes under load: SIGKILL at seeded random moments, restart, nothing lost or doubled.

Given one worker on a broker of its own and the load generator producing
seeded records (duplicates, late and malformed ones included) at a steady
rate, when the worker is killed with SIGKILL at random moments (seeded) and
a new worker process is started each time, either on the same data directory
(RocksDB kept: fast restart) or on a wiped one (everything recovered from the
changelog topics), then, once the load stops, every order, customer,
analytics answer, ``order-status``, ``alerts`` and ``dead-letters`` equals
the replay oracle's fold of exactly the records produced: no event lost, none
counted twice. ``order-status`` may repeat a change after a crash, but only as
the identical record with the same ``(order_id, version)``.

``make test`` runs the short version: two crashes in one run, the first
keeping RocksDB and the second wiping it, with small data; ``make test-full``
adds the full one: six crashes per variant, each variant a run of its own,
at twice the rate.
Why a broker of its own: see ``test_stream_replay`` (event times of other
tests would make these records late; status counts are global).
"""

from __future__ import annotations

import asyncio
import random
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import BrokerAddress
from tests.support.fault_load import BackgroundLoad, judge, record_figure, workload
from tests.support.oracle_checks import WORKER_ENV, check_all
from tests.support.worker_process import WorkerProcess


@dataclass(frozen=True, slots=True)
class Run:
    """One run: which crashes wipe the data directory, the load rate, a record bound, the seed."""

    wipes: tuple[bool, ...]
    rate: float
    max_records: int
    seed: int

    @property
    def variant(self) -> str:
        return "+".join(sorted({"rocksdb-wiped" if w else "rocksdb-kept" for w in self.wipes}))


RUNS = [
    # make test: one crash of each kind in one run (one broker, one oracle check)
    pytest.param(Run((False, True), 40.0, 6000, 7301), id="short-kept-then-wiped"),
    pytest.param(
        Run((False,) * 6, 80.0, 40000, 7302), id="full-rocksdb-kept", marks=pytest.mark.slow
    ),
    pytest.param(
        Run((True,) * 6, 80.0, 40000, 7303), id="full-rocksdb-wiped", marks=pytest.mark.slow
    ),
]
#: Seconds of load after a restarted worker is ready, before the next crash (seeded).
UP_BETWEEN = (0.5, 4.0)


@pytest.fixture
def kafka_broker() -> Iterator[BrokerAddress]:
    """A fresh one-node cluster per run (see the module docstring)."""
    from localservices.kafka import LocalKafkaCluster

    with LocalKafkaCluster(1, partitions=4) as cluster:
        yield BrokerAddress(url=cluster.url, bootstrap=cluster.bootstrap_servers)


@pytest.mark.parametrize("run", RUNS)
async def test_sigkilled_worker_loses_and_doubles_nothing(
    start_worker: Callable[..., WorkerProcess],
    kafka_broker: BrokerAddress,
    tmp_path: Path,
    run: Run,
) -> None:
    rng = random.Random(run.seed)
    datadir = tmp_path / "worker-data"
    env = {**WORKER_ENV, "SHOPSTREAM_DATADIR": str(datadir)}
    # Given a ready worker and the load generator producing seeded records
    worker = start_worker("worker-0", **env)
    worker.wait_ready()
    options, events = workload(run.seed, run.max_records, run.rate, kafka_broker.bootstrap)
    load = BackgroundLoad(options, events).start()
    restarts: list[float] = []
    try:
        # When the worker is SIGKILLed at seeded moments and restarted each time
        for crash, wipe in enumerate(run.wipes, 1):
            await asyncio.sleep(rng.uniform(*UP_BETWEEN))  # the load goes on meanwhile
            assert load.running, "the load ended before the crashes: raise max_records"
            worker.kill()
            killed = time.monotonic()
            if wipe:
                shutil.rmtree(datadir, ignore_errors=True)
            worker = start_worker(f"worker-{crash}", **env)
            await asyncio.to_thread(worker.wait_ready, 180)  # not blocking the load
            restarts.append(round(time.monotonic() - killed, 1))
        await asyncio.sleep(rng.uniform(*UP_BETWEEN))
        produced = await load.finish()
    finally:
        await load.cancel()

    # Then every answer equals the oracle's fold of exactly what was produced
    judged = judge(produced)
    started = time.monotonic()
    repeats = await check_all(
        worker, kafka_broker.bootstrap, judged.expected, judged.probes, keys=judged.keys
    )
    record_figure(
        "worker_crashes",
        variant=run.variant,
        crashes=len(run.wipes),
        records=len(produced),
        orders=len(judged.expected.orders),
        kill_to_ready_seconds=restarts,
        converged_and_checked_seconds=round(time.monotonic() - started, 1),
        **repeats,
    )
