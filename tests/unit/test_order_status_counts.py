"""Order counts per status: the local scan and the merge of the workers' answers."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from app.web.order_status import StatusCounts, merge_counts, scan_statuses
from domain.order_outputs import OrderStatus


async def test_scan_reads_only_the_status_of_stored_orders() -> None:
    stored: list[Any] = [
        {"status": "PAID", "history": ["…"]},
        {"status": "PAID"},
        {"status": "CREATED"},
        {"status": None, "pending": ["an event waiting for its order"]},
        {"no_status": True},
        None,
    ]
    assert await scan_statuses(stored, batch=2) == Counter({"PAID": 2, "CREATED": 1})


def test_merge_is_complete_when_every_partition_is_counted_once() -> None:
    merged = merge_counts(
        [
            StatusCounts(counts={"PAID": 2, "CREATED": 1}, partitions=(0, 2)),
            StatusCounts(counts={"PAID": 1, "DELIVERED": 4}, partitions=(1, 3)),
        ],
        partition_count=4,
    )
    assert merged["counts"] == {
        **{status.value: 0 for status in OrderStatus},
        "PAID": 3,
        "CREATED": 1,
        "DELIVERED": 4,
    }
    assert list(merged["counts"]) == [status.value for status in OrderStatus]
    assert merged["total"] == 8
    assert merged["partitions"] == {
        "counted": [0, 1, 2, 3],
        "expected": 4,
        "missing": [],
        "overlapping": [],
    }
    assert merged["complete"] is True
    assert merged["unreachable_workers"] == []


@pytest.mark.parametrize(
    ("answers", "unreachable", "missing", "overlapping"),
    [
        ([StatusCounts(partitions=(0, 1))], [], [2, 3], []),
        ([StatusCounts(partitions=(0, 1, 2)), StatusCounts(partitions=(2, 3))], [], [], [2]),
        ([StatusCounts(partitions=(0, 1, 2, 3))], ["http://w2:6066"], [], []),
    ],
    ids=["partitions-missing", "rebalance-overlap", "worker-down"],
)
def test_merge_says_when_it_is_not_the_whole_picture(
    answers: list[StatusCounts], unreachable: list[str], missing: list[int], overlapping: list[int]
) -> None:
    merged = merge_counts(answers, partition_count=4, unreachable=unreachable)
    assert merged["complete"] is False
    assert merged["partitions"]["missing"] == missing
    assert merged["partitions"]["overlapping"] == overlapping
    assert merged["unreachable_workers"] == unreachable


def test_a_local_answer_reads_back_as_what_was_counted() -> None:
    local = StatusCounts(counts={"SHIPPED": 5}, partitions=(1, 3))
    answer = {"scope": "local", **merge_counts([local], partition_count=4)}
    again = StatusCounts.from_answer(answer)
    assert again.partitions == (1, 3)
    assert again.counts["SHIPPED"] == 5 and sum(again.counts.values()) == 5


@pytest.mark.parametrize("body", [{}, {"counts": {}}, {"counts": [], "partitions": {}}])
def test_a_peer_answer_of_another_shape_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        StatusCounts.from_answer(body)
