"""Who had the machine's cores during a measurement: the worker, the broker, the bench itself.

On the benchmark machine the broker, the worker and the load generator share
two cores, and on a shared host the hypervisor takes some of them too
(``steal`` in ``/proc/stat``). A latency figure says little without that
split: at half load the worker's queue, not any one stall, makes the tail,
and how much of the machine was left to it differs between hosts and runs.
:class:`CpuMeter` reads the CPU time of named process groups and of the
machine (psutil) at the start and the end of a measurement;
:func:`cpu_shares` turns two readings into percentages.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CpuMeter", "CpuReading", "CpuShares", "cpu_shares"]


@dataclass(frozen=True, slots=True)
class CpuReading:
    """CPU seconds so far: per process group, and the machine's idle, stolen and total."""

    at: float
    processes: Mapping[str, float]
    idle: float
    stolen: float
    total: float


@dataclass(frozen=True, slots=True)
class CpuShares:
    """Per process group: % of one core; idle and stolen: % of all the machine's cores."""

    processes: Mapping[str, float]
    idle: float
    stolen: float


def cpu_shares(before: CpuReading, after: CpuReading) -> CpuShares:
    """The shares of the time between two readings (a group missing from either counts 0)."""
    wall = max(after.at - before.at, 1e-9)
    machine = max(after.total - before.total, 1e-9)
    return CpuShares(
        processes={
            name: 100 * max(after.processes.get(name, 0.0) - spent, 0.0) / wall
            for name, spent in before.processes.items()
        },
        idle=100 * (after.idle - before.idle) / machine,
        stolen=100 * (after.stolen - before.stolen) / machine,
    )


def _process_seconds(pids: Sequence[int]) -> float:
    """User + system seconds of these processes (a gone one counts 0).

    Their children are not counted: the bench's own process is the parent of the
    broker and of every worker it measures.
    """
    import psutil

    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


class CpuMeter:
    """Reads the CPU time of process groups (name -> pids, children excluded) and of the machine."""

    def __init__(self, groups: Mapping[str, Sequence[int]]) -> None:
        self.groups = dict(groups)

    def read(self) -> CpuReading:
        import psutil

        machine: Any = psutil.cpu_times()
        return CpuReading(
            at=time.monotonic(),
            processes={name: _process_seconds(pids) for name, pids in self.groups.items()},
            idle=machine.idle + getattr(machine, "iowait", 0.0),
            stolen=getattr(machine, "steal", 0.0),
            # Linux counts guest time inside user time as well (psutil's cpu_percent does the same).
            total=sum(machine)
            - getattr(machine, "guest", 0.0)
            - getattr(machine, "guest_nice", 0.0),
        )
