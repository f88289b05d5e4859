"""Ask every worker of the consumer group the same question over HTTP.

Cluster-wide answers (``/analytics/*``, ``/analytics/order-status-counts``)
are sums of per-worker parts. The worker that is asked computes its own part
in-process and fetches the others' from an internal endpoint; whether the
parts cover every partition exactly once is :mod:`domain.partition_coverage`'s
question, and what to do with a worker that did not answer is the caller's
(analytics refuse with a 503, status counts name it).

Members and their URLs come from the assignment metadata Faust's partition
assignor shares with every member at each rebalance.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import aiohttp

from app.cluster.token import CLUSTER_TOKEN_HEADER
from app.main import app, settings

__all__ = ["MemberAnswer", "ask_group", "group_urls"]


#: Peers answer internal paths only with the group's token (:mod:`app.cluster.token`).
_CLUSTER_HEADERS: Final = (
    {CLUSTER_TOKEN_HEADER: settings.cluster_token} if settings.cluster_token else {}
)


@dataclass(frozen=True, slots=True)
class MemberAnswer:
    """One member's JSON answer, or why there is none."""

    url: str
    body: dict[str, Any] | None
    error: str | None = None


def own_url() -> str:
    return str(app.conf.canonical_url)


def group_urls() -> list[str]:
    """The web URL of every member of the group (this worker included), from the last assignment."""
    # external_topics_metadata is on Faust's concrete PartitionAssignor, not on its interface.
    assignor: Any = app.assignor
    urls = set(assignor.tables_metadata()) | set(assignor.external_topics_metadata())
    return sorted(urls)


async def _ask_member(
    url: str, path: str, params: Mapping[str, str], timeout: float
) -> MemberAnswer:
    try:
        async with app.http_client.get(
            f"{url.rstrip('/')}{path}",
            params=dict(params),
            headers=_CLUSTER_HEADERS,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return MemberAnswer(url, None, f"worker {url} did not answer: {exc!r}")
    if response.status != 200:
        detail = body.get("error") if isinstance(body, dict) else body
        return MemberAnswer(url, None, f"worker {url} answered {response.status}: {detail}")
    if not isinstance(body, dict):
        return MemberAnswer(url, None, f"worker {url} sent a malformed answer")
    return MemberAnswer(url, body)


async def _ask_self(local: Callable[[], Awaitable[dict[str, Any]]]) -> MemberAnswer:
    try:
        return MemberAnswer(own_url(), await local())
    except Exception as exc:  # the local part fails like a remote one would: named, not raised
        return MemberAnswer(own_url(), None, f"worker {own_url()} could not answer: {exc}")


async def ask_group(
    path: str,
    params: Mapping[str, str],
    *,
    local: Callable[[], Awaitable[dict[str, Any]]],
    timeout: float,
) -> list[MemberAnswer]:
    """Every member's answer to ``GET path?params``; this worker answers through ``local``."""
    own = own_url()
    return list(
        await asyncio.gather(
            *(
                _ask_self(local) if url == own else _ask_member(url, path, params, timeout)
                for url in group_urls()
            )
        )
    )
