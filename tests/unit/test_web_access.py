"""Who may use a worker's web server: the cluster token on internal paths, caps on held connections."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from app.cluster.token import CLUSTER_TOKEN_HEADER
from app.web.access import Admission, AtCapacity, cluster_token_guard

TOKEN = "group-secret-0123456789"


async def _ok(request: web.Request) -> web.Response:
    return web.json_response({"path": request.path})


@pytest.fixture
async def guarded() -> AsyncIterator[TestClient[Any, Any]]:
    app = web.Application(middlewares=[cluster_token_guard(TOKEN)])
    for path in ("/internal/analytics/stats", "/router/{name}/", "/orders/{order_id}"):
        app.router.add_get(path, _ok)
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.mark.parametrize(
    "path",
    [
        "/internal/analytics/stats",
        "/%69nternal/analytics/stats",  # percent-encoded: the route matched is what counts
        "/router/orders/",
    ],
)
async def test_internal_paths_need_the_token(guarded: TestClient[Any, Any], path: str) -> None:
    for headers in ({}, {CLUSTER_TOKEN_HEADER: "wrong"}, {CLUSTER_TOKEN_HEADER: TOKEN[:-1]}):
        response = await guarded.get(path, headers=headers)
        assert response.status == 403, (path, headers)
        assert CLUSTER_TOKEN_HEADER in (await response.json())["error"]
    response = await guarded.get(path, headers={CLUSTER_TOKEN_HEADER: TOKEN})
    assert response.status == 200


async def test_public_paths_and_unknown_paths_do_not_ask_for_it(
    guarded: TestClient[Any, Any],
) -> None:
    assert (await guarded.get("/orders/o-1")).status == 200
    assert (await guarded.get("/internal/nothing-here")).status == 404


async def test_without_a_token_nothing_is_guarded() -> None:
    app = web.Application(middlewares=[cluster_token_guard(None)])
    app.router.add_get("/internal/analytics/stats", _ok)
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/internal/analytics/stats")).status == 200


def test_admission_refuses_beyond_its_limit_and_frees_slots() -> None:
    admission = Admission("test_kind", 2)
    with admission.slot(), admission.slot():
        assert admission.held == 2
        with pytest.raises(AtCapacity) as refused, admission.slot():
            pass
        response = refused.value.response()
        assert response.status == 503
        assert response.headers["Retry-After"] == "5"
    assert admission.held == 0
    with admission.slot():
        assert admission.held == 1
