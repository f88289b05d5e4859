"""Global answers: partials of every worker merge only when each partition is covered once."""

from __future__ import annotations

from typing import Any

import pytest

from app import analytics_cluster
from app.analytics_cluster import AnalyticsUnavailable, global_partial
from app.main import settings
from app.web.internal_analytics import parse_partial_request
from app.web.responses import BadRequest
from domain.analytics_partials import PartialKind, ProductsPartial, partial_to_wire
from domain.analytics_query import QueryRange

SPAN = QueryRange(start=100, end=160)


def answer(partitions: list[int], products: dict[str, tuple[int, int, int]]) -> dict[str, Any]:
    return {"partitions": partitions, "partial": partial_to_wire(ProductsPartial(products))}


def fake_group(monkeypatch: pytest.MonkeyPatch, answers: dict[str, Any]) -> None:
    async def partial_of(url: str, kind: PartialKind, span: QueryRange) -> dict[str, Any]:
        result = answers[url]
        if isinstance(result, Exception):
            raise result
        return dict(result)

    monkeypatch.setattr(analytics_cluster, "group_urls", lambda: sorted(answers))
    monkeypatch.setattr(analytics_cluster, "_partial_of", partial_of)


async def test_the_partials_of_all_workers_are_merged(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings.partitions == 4
    fake_group(
        monkeypatch,
        {
            "http://w1": answer([0, 2], {"a": (1, 0, 0), "b": (2, 1, 0)}),
            "http://w2": answer([1, 3], {"a": (3, 0, 2)}),
        },
    )
    merged = await global_partial(PartialKind.PRODUCTS, SPAN)
    assert merged == ProductsPartial({"a": (4, 0, 2), "b": (2, 1, 0)})


@pytest.mark.parametrize(
    "answers, problem",
    [
        ({"http://w1": answer([0, 1, 2], {})}, "missing [3]"),
        ({"http://w1": answer([0, 1, 2, 3], {}), "http://w2": answer([3], {})}, "twice [3]"),
        ({"http://w1": answer([0, 1, 2, 3, 7], {})}, "unknown [7]"),
        ({}, "no partition assignment"),
        (
            {
                "http://w1": answer([0, 1], {}),
                "http://w2": AnalyticsUnavailable("worker http://w2 did not answer"),
            },
            "did not answer",
        ),
    ],
)
async def test_an_incomplete_group_answers_503_never_wrong_numbers(
    monkeypatch: pytest.MonkeyPatch, answers: dict[str, Any], problem: str
) -> None:
    fake_group(monkeypatch, answers)
    with pytest.raises(AnalyticsUnavailable, match=problem.replace("[", r"\[").replace("]", r"\]")):
        await global_partial(PartialKind.PRODUCTS, SPAN)


def test_partial_requests_are_validated() -> None:
    assert parse_partial_request("funnel", "100", "160") == (PartialKind.FUNNEL, SPAN)
    for kind, start, end in [
        ("nope", "1", "2"),
        ("revenue", "1", "x"),
        ("revenue", None, "2"),
        ("revenue", "5", "5"),
        ("revenue", "0", "1441"),
    ]:
        with pytest.raises(BadRequest):
            parse_partial_request(kind, start, end)
