"""Global analytics answers from a group of workers: fan out, check coverage, merge.

Each worker holds the analytics rows of the partitions it owns. The worker
that is asked collects one partial answer from every member of the consumer
group (itself included, without HTTP), each computed over that member's
*active* partitions only: standby replicas hold copies too and would be
counted twice. The partials are merged only if every partition of the input
topics is covered exactly once; otherwise (a rebalance in flight, a worker
still recovering or not answering) the answer is a 503, never wrong numbers.

Asking the members is :mod:`app.cluster.fanout`'s job; the coverage check is
:mod:`domain.partition_coverage`'s.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from app.cluster.fanout import MemberAnswer, ask_group, own_url
from app.cluster.shared import SharedAnswers
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
from domain.partition_coverage import coverage
from tables.analytics import POLICY, active_partitions, partition_reader

__all__ = [
    "INTERNAL_PARTIALS_PATH",
    "AnalyticsUnavailable",
    "global_partial",
    "local_partial",
    "local_stats",
    "merge_answers",
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
    if not _ready():
        raise AnalyticsUnavailable(f"worker {own_url()} is rebalancing or recovering")
    partitions = active_partitions()
    partials = []
    for partition in partitions:
        reader = partition_reader(partition)
        if reader is not None:
            partials.append(partition_partial(reader, partition, kind, span, POLICY))
    return {
        "worker": own_url(),
        "partitions": partitions,
        "partial": partial_to_wire(merge_partials(kind, partials)),
    }


def local_stats() -> dict[str, Any]:
    """Rows held per active partition (how much state there is; proves expiry in tests)."""
    stats = {}
    for partition in active_partitions():
        reader = partition_reader(partition)
        stats[str(partition)] = None if reader is None else partition_stats(reader, partition)
    return {"worker": own_url(), "ready": _ready(), "partitions": stats}


#: Identical analytics questions within this many seconds share one answer (:mod:`app.cluster.shared`).
SHARED_ANSWER_SECONDS: Final = 1.0
_shared: SharedAnswers[tuple[PartialKind, QueryRange], Partial] = SharedAnswers(
    SHARED_ANSWER_SECONDS
)


async def global_partial(kind: PartialKind, span: QueryRange) -> Partial:
    """The merged partial of the whole group; AnalyticsUnavailable when it would be incomplete.

    Concurrent and repeated (within :data:`SHARED_ANSWER_SECONDS`) identical
    questions share one fan-out.
    """
    return await _shared.get((kind, span), lambda: _ask_group(kind, span))


async def _ask_group(kind: PartialKind, span: QueryRange) -> Partial:
    params = {"kind": kind.value, "start": str(span.start), "minutes": str(span.minutes)}

    async def local() -> dict[str, Any]:
        return local_partial(kind, span)

    answers = await ask_group(
        INTERNAL_PARTIALS_PATH, params, local=local, timeout=FAN_OUT_TIMEOUT_SECONDS
    )
    return merge_answers(kind, answers)


def merge_answers(kind: PartialKind, answers: list[MemberAnswer]) -> Partial:
    """Merge the members' partials only if all answered and they tile the partitions."""
    if not answers:
        raise AnalyticsUnavailable("no partition assignment yet")
    bodies = []
    for answer in answers:
        if answer.body is None:
            raise AnalyticsUnavailable(answer.error or f"worker {answer.url} did not answer")
        bodies.append(answer.body)
    try:
        covered = coverage(
            ([int(p) for p in body.get("partitions", ())] for body in bodies), settings.partitions
        )
        partials = [partial_from_wire(kind, body["partial"]) for body in bodies]
    except (InvalidPartial, KeyError, TypeError, ValueError) as exc:
        raise AnalyticsUnavailable(f"a worker sent an unreadable partial: {exc}") from None
    if not covered.complete:
        raise AnalyticsUnavailable(covered.problem())
    return merge_partials(kind, partials)
