"""Global analytics answers from a group of workers: fan out, check coverage, merge.

Each worker holds the analytics rows of the partitions it owns. The worker
that is asked collects one partial answer from every member of the consumer
group (itself included, without HTTP), each computed over that member's
*active* partitions only: standby replicas hold copies too and would be
counted twice. The partials are merged only if every partition of the input
topics is covered exactly once; otherwise (a rebalance in flight, a worker
still recovering or not answering) the answer is a 503, never wrong numbers.

Members and their URLs come from the assignment metadata Faust's partition
assignor shares with every member at each rebalance.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any, Final

import aiohttp

from app.main import app, settings
from domain.analytics_partials import (
    InvalidPartial,
    Partial,
    PartialKind,
    merge_partials,
    partial_from_wire,
    partial_to_wire,
)
from domain.analytics_query import QueryRange
from domain.analytics_reads import partition_partial, partition_stats
from tables.analytics import active_partitions, partition_reader

__all__ = [
    "INTERNAL_PARTIALS_PATH",
    "AnalyticsUnavailable",
    "global_partial",
    "local_partial",
    "local_stats",
]

INTERNAL_PARTIALS_PATH: Final = "/internal/analytics/partials"
#: How long the asked worker waits for the others' partials.
FAN_OUT_TIMEOUT_SECONDS: Final = 10.0

logger = logging.getLogger(__name__)


class AnalyticsUnavailable(RuntimeError):
    """The group cannot give a complete answer right now (answered with a 503)."""


def _ready() -> bool:
    return bool(app.tables.actives_ready and not app.rebalancing)


def local_partial(kind: PartialKind, span: QueryRange) -> dict[str, Any]:
    """This worker's partial over its active partitions, with the partitions it covers."""
    from agents.analytics import POLICY

    if not _ready():
        raise AnalyticsUnavailable(f"worker {app.conf.canonical_url} is rebalancing or recovering")
    partitions = active_partitions()
    partials = []
    for partition in partitions:
        reader = partition_reader(partition)
        if reader is not None:
            partials.append(partition_partial(reader, partition, kind, span, POLICY))
    return {
        "worker": str(app.conf.canonical_url),
        "partitions": partitions,
        "partial": partial_to_wire(merge_partials(kind, partials)),
    }


def local_stats() -> dict[str, Any]:
    """Rows held per active partition (how much state there is; proves expiry in tests)."""
    stats = {}
    for partition in active_partitions():
        reader = partition_reader(partition)
        stats[str(partition)] = None if reader is None else partition_stats(reader, partition)
    return {"worker": str(app.conf.canonical_url), "ready": _ready(), "partitions": stats}


def group_urls() -> list[str]:
    """The web URL of every member of the group, from the last assignment."""
    # external_topics_metadata is on Faust's concrete PartitionAssignor, not on its interface.
    assignor: Any = app.assignor
    urls = set(assignor.tables_metadata()) | set(assignor.external_topics_metadata())
    return sorted(urls)


async def _remote_partial(url: str, kind: PartialKind, span: QueryRange) -> dict[str, Any]:
    params = {"kind": kind.value, "start": str(span.start), "end": str(span.end)}
    timeout = aiohttp.ClientTimeout(total=FAN_OUT_TIMEOUT_SECONDS)
    try:
        async with app.http_client.get(
            f"{url.rstrip('/')}{INTERNAL_PARTIALS_PATH}", params=params, timeout=timeout
        ) as response:
            body = await response.json(content_type=None)
            if response.status != 200:
                detail = body.get("error") if isinstance(body, dict) else body
                raise AnalyticsUnavailable(f"worker {url} answered {response.status}: {detail}")
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise AnalyticsUnavailable(f"worker {url} did not answer: {exc!r}") from None
    if not isinstance(body, dict):
        raise AnalyticsUnavailable(f"worker {url} sent a malformed partial")
    return body


async def _partial_of(url: str, kind: PartialKind, span: QueryRange) -> dict[str, Any]:
    if url == str(app.conf.canonical_url):
        return local_partial(kind, span)
    return await _remote_partial(url, kind, span)


def _check_coverage(answers: list[dict[str, Any]]) -> None:
    covered: Counter[int] = Counter()
    for answer in answers:
        covered.update(int(p) for p in answer.get("partitions", ()))
    expected = set(range(settings.partitions))
    missing = sorted(expected - set(covered))
    twice = sorted(p for p, n in covered.items() if n > 1)
    unknown = sorted(set(covered) - expected)
    if missing or twice or unknown:
        raise AnalyticsUnavailable(
            "partitions are not covered exactly once (rebalancing?): "
            f"missing {missing}, twice {twice}, unknown {unknown}"
        )


async def global_partial(kind: PartialKind, span: QueryRange) -> Partial:
    """The merged partial of the whole group; AnalyticsUnavailable when it would be incomplete."""
    urls = group_urls()
    if not urls:
        raise AnalyticsUnavailable("no partition assignment yet")
    answers = await asyncio.gather(*(_partial_of(url, kind, span) for url in urls))
    _check_coverage(list(answers))
    try:
        partials = [partial_from_wire(kind, answer["partial"]) for answer in answers]
    except (InvalidPartial, KeyError) as exc:
        raise AnalyticsUnavailable(f"a worker sent an unreadable partial: {exc}") from None
    return merge_partials(kind, partials)
