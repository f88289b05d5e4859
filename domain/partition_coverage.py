"""Does a set of answers from the workers of a group cover every partition exactly once?

Cluster-wide answers (analytics, order counts) are sums of per-worker parts,
each over the partitions that worker owns. During a rebalance two workers can
both claim a partition, or nobody does; a sum over such parts is wrong, so
every merge first asks this module whether the parts tile the partitions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Coverage", "coverage"]


@dataclass(frozen=True, slots=True)
class Coverage:
    """Which partitions the parts counted, and what is wrong with that if anything."""

    counted: tuple[int, ...]
    missing: tuple[int, ...]
    twice: tuple[int, ...]
    unknown: tuple[int, ...]

    @property
    def complete(self) -> bool:
        return not (self.missing or self.twice or self.unknown)

    def problem(self) -> str:
        """One line for an error answer (empty when complete)."""
        if self.complete:
            return ""
        return (
            "partitions are not covered exactly once (rebalancing?): "
            f"missing {list(self.missing)}, twice {list(self.twice)}, "
            f"unknown {list(self.unknown)}"
        )


def coverage(parts: Iterable[Iterable[int]], partition_count: int) -> Coverage:
    """Check the partitions each part covers against ``range(partition_count)``."""
    seen: Counter[int] = Counter()
    for partitions in parts:
        seen.update(partitions)
    expected = set(range(partition_count))
    return Coverage(
        counted=tuple(sorted(seen)),
        missing=tuple(sorted(expected - set(seen))),
        twice=tuple(sorted(p for p, n in seen.items() if n > 1)),
        unknown=tuple(sorted(set(seen) - expected)),
    )
