"""Global answers: partials of every worker merge only when each partition is covered once."""

from __future__ import annotations

from typing import Any

import pytest

from app.cluster import analytics as analytics_cluster
from app.cluster.analytics import (
    INTERNAL_PARTIALS_PATH,
    AnalyticsUnavailable,
    global_partial,
    merge_answers,
)
from app.cluster.fanout import MemberAnswer
from app.main import settings
from app.web.internal_analytics import parse_partial_request
from app.web.responses import BadRequest
from domain.analytics_partials import PartialKind, ProductsPartial, partial_to_wire
from domain.analytics_query import QueryRange

SPAN = QueryRange(start=100, end=160)


def answer(
    url: str, partitions: list[int], products: dict[str, tuple[int, int, int]]
) -> MemberAnswer:
    body = {"partitions": partitions, "partial": partial_to_wire(ProductsPartial(products))}
    return MemberAnswer(url, body)


async def test_the_group_is_asked_and_the_partials_of_all_workers_are_merged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert settings.partitions == 4
    asked: list[tuple[str, dict[str, str]]] = []

    async def ask_group(path: str, params: dict[str, str], **_: Any) -> list[MemberAnswer]:
        asked.append((path, params))
        return [
            answer("http://w1", [0, 2], {"a": (1, 0, 0), "b": (2, 1, 0)}),
            answer("http://w2", [1, 3], {"a": (3, 0, 2)}),
        ]

    monkeypatch.setattr(analytics_cluster, "ask_group", ask_group)
    merged = await global_partial(PartialKind.PRODUCTS, SPAN)
    assert merged == ProductsPartial({"a": (4, 0, 2), "b": (2, 1, 0)})
    assert asked == [
        (INTERNAL_PARTIALS_PATH, {"kind": "products", "start": "100", "minutes": "60"})
    ]


@pytest.mark.parametrize(
    "answers, problem",
    [
        ([answer("http://w1", [0, 1, 2], {})], "missing [3]"),
        ([answer("http://w1", [0, 1, 2, 3], {}), answer("http://w2", [3], {})], "twice [3]"),
        ([answer("http://w1", [0, 1, 2, 3, 7], {})], "unknown [7]"),
        ([], "no partition assignment"),
        (
            [
                answer("http://w1", [0, 1], {}),
                MemberAnswer("http://w2", None, "worker http://w2 did not answer"),
            ],
            "did not answer",
        ),
        ([MemberAnswer("http://w1", {"partitions": [0, 1, 2, 3]})], "unreadable partial"),
    ],
)
def test_an_incomplete_group_answers_503_never_wrong_numbers(
    answers: list[MemberAnswer], problem: str
) -> None:
    with pytest.raises(AnalyticsUnavailable, match=problem.replace("[", r"\[").replace("]", r"\]")):
        merge_answers(PartialKind.PRODUCTS, answers)


def test_partial_requests_are_validated() -> None:
    assert parse_partial_request("funnel", "100", "60") == (PartialKind.FUNNEL, SPAN)
    for kind, start, minutes in [
        ("nope", "1", "2"),
        ("revenue", "1", "x"),
        ("revenue", None, "2"),
        ("revenue", "5", None),
        ("revenue", "5", "0"),
        ("revenue", "0", "1441"),
        ("revenue", " 5", "1"),
        ("revenue", "5_0", "1"),
        ("revenue", str(10**13), "1"),
        ("revenue", "-999999999999", "1"),
    ]:
        with pytest.raises(BadRequest):
            parse_partial_request(kind, start, minutes)
