"""Cluster-wide sums are only right when the parts tile the partitions exactly once."""

from __future__ import annotations

from domain.partition_coverage import coverage


def test_parts_that_tile_the_partitions_are_complete() -> None:
    covered = coverage([[0, 2], (1, 3)], 4)
    assert covered.complete
    assert covered.counted == (0, 1, 2, 3)
    assert covered.problem() == ""


def test_a_gap_an_overlap_and_a_stranger_are_each_named() -> None:
    covered = coverage([[0, 1], [1, 5]], 4)
    assert not covered.complete
    assert (covered.missing, covered.twice, covered.unknown) == ((2, 3), (1,), (5,))
    assert covered.problem() == (
        "partitions are not covered exactly once (rebalancing?): "
        "missing [2, 3], twice [1], unknown [5]"
    )


def test_no_parts_cover_nothing() -> None:
    assert coverage([], 2).missing == (0, 1)
