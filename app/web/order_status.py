"""``GET /analytics/order-status-counts``: how many orders are in each status right now.

Not in DESIGN.md (the dashboard needs it, so ShopStream defines it; the shape
is in ``GET /openapi.json``). There is no aggregate table behind it yet, so each
worker scans its own ``orders`` table, reading only the ``status`` field of
each stored :meth:`domain.order_state.OrderState.to_dict`, and only in its
*active* partitions: standby copies are someone else's to count. The worker
asked then fans out to the other workers of the group (``GET
/internal/order-status-counts``, the ``scope=local`` answer behind the cluster
token, :mod:`app.cluster.fanout`) and adds their answers. Each answer names the
partitions it covered, so the sum says whether every partition was counted
exactly once (``complete``, :mod:`domain.partition_coverage`); during a
rebalance, or when a worker does not answer, it says so instead of pretending.

Cost: a full scan of the local partitions, so answers are cached for
:data:`LOCAL_CACHE_SECONDS` and concurrent callers share one scan; the scan
yields to the event loop every :data:`SCAN_BATCH` orders so agents keep
running. An incrementally maintained count (per status and partition, updated
by the order agent) would make this O(statuses); until then this is O(orders).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from faust.web import Request, Response, View

from app.cluster.fanout import ask_group
from app.cluster.shared import SharedAnswers
from app.main import app, settings
from app.web.responses import json_error, query
from domain.order_outputs import OrderStatus
from domain.partition_coverage import coverage
from tables.orders import orders_table
from tables.ownership import active_partitions

__all__ = [
    "INTERNAL_STATUS_COUNTS_PATH",
    "ORDER_STATUS_COUNTS_PATH",
    "StatusCounts",
    "merge_counts",
    "scan_statuses",
]

logger = logging.getLogger(__name__)

ORDER_STATUS_COUNTS_PATH: Final = "/analytics/order-status-counts"
#: What the workers ask each other (the same answer as ``scope=local``, behind the cluster token).
INTERNAL_STATUS_COUNTS_PATH: Final = "/internal/order-status-counts"
LOCAL_CACHE_SECONDS: Final = 1.0
SCAN_BATCH: Final = 2000
PEER_TIMEOUT_SECONDS: Final = 2.0
SCOPES: Final = ("cluster", "local")


@dataclass(frozen=True, slots=True)
class StatusCounts:
    """Orders per status over a set of partitions of the ``orders`` table."""

    counts: Mapping[str, int] = field(default_factory=dict)
    partitions: tuple[int, ...] = ()

    @classmethod
    def from_answer(cls, body: Mapping[str, Any]) -> StatusCounts:
        """Read a peer's ``scope=local`` answer; raises ValueError if it is not one."""
        counts, partitions = body.get("counts"), body.get("partitions")
        if not isinstance(counts, dict) or not isinstance(partitions, dict):
            raise ValueError("not an order-status-counts answer")
        return cls(
            counts={str(k): int(v) for k, v in counts.items()},
            partitions=tuple(int(p) for p in partitions.get("counted", ())),
        )


def merge_counts(
    answers: Iterable[StatusCounts], *, partition_count: int, unreachable: Iterable[str] = ()
) -> dict[str, Any]:
    """Add the workers' answers; ``complete`` only if each partition was counted exactly once."""
    answers = list(answers)
    totals: Counter[str] = Counter({status.value: 0 for status in OrderStatus})
    for answer in answers:
        totals.update(answer.counts)
    covered = coverage((answer.partitions for answer in answers), partition_count)
    down = sorted(unreachable)
    return {
        "counts": dict(totals),
        "total": sum(totals.values()),
        "partitions": {
            "counted": list(covered.counted),
            "expected": partition_count,
            "missing": list(covered.missing),
            "overlapping": list(covered.twice),
        },
        "unreachable_workers": down,
        "complete": covered.complete and not down,
    }


async def scan_statuses(values: Iterable[Any], *, batch: int = SCAN_BATCH) -> Counter[str]:
    """Count the ``status`` of stored order dicts, yielding to the loop every ``batch``."""
    counts: Counter[str] = Counter()
    for n, value in enumerate(values, 1):
        status = value.get("status") if isinstance(value, dict) else None
        if isinstance(status, str):
            counts[status] += 1
        if n % batch == 0:
            await asyncio.sleep(0)
    return counts


async def _scan_local() -> StatusCounts:
    partitions = tuple(active_partitions(orders_table))
    counts = await scan_statuses(orders_table.values()) if partitions else Counter()
    return StatusCounts(counts=counts, partitions=partitions)


#: This worker's counts, kept briefly; concurrent callers share one scan.
_local: SharedAnswers[str, StatusCounts] = SharedAnswers(LOCAL_CACHE_SECONDS)


async def _local_answer() -> dict[str, Any]:
    """This worker's ``scope=local`` answer, the same JSON its peers get over HTTP."""
    local = await _local.get("local", _scan_local)
    return {"scope": "local", **merge_counts([local], partition_count=settings.partitions)}


async def cluster_counts() -> dict[str, Any]:
    """Every member's counts added up; members that did not answer are named, not guessed."""
    members = await ask_group(
        INTERNAL_STATUS_COUNTS_PATH,
        {},
        local=_local_answer,
        timeout=PEER_TIMEOUT_SECONDS,
    )
    answers: list[StatusCounts] = []
    unreachable: list[str] = []
    for member in members:
        try:
            if member.body is None:
                raise ValueError(member.error)
            answers.append(StatusCounts.from_answer(member.body))
        except ValueError as exc:
            logger.warning("order-status-counts: %s did not answer: %s", member.url, exc)
            unreachable.append(member.url)
    return merge_counts(answers, partition_count=settings.partitions, unreachable=unreachable)


@app.page(ORDER_STATUS_COUNTS_PATH)
class OrderStatusCountsView(View):
    """Orders per current status, over all partitions (``scope=local``: this worker's only)."""

    async def get(self, request: Request) -> Response:
        scope = query(request, "scope")
        if scope is None:
            scope = "cluster"
        elif scope not in SCOPES:
            return json_error(self, f"scope must be one of {', '.join(SCOPES)}", status=400)
        if scope == "cluster":
            return self.json({"scope": scope, **await cluster_counts()})
        return await _local_view(self)


async def _local_view(view: View) -> Response:
    try:
        return view.json(await _local_answer())
    except Exception as exc:  # a rebalance closed a store mid-scan: ask again later
        logger.warning("order-status-counts: local scan failed: %r", exc)
        return json_error(view, "counts unavailable (rebalancing); retry", status=503)


@app.page(INTERNAL_STATUS_COUNTS_PATH)
class InternalStatusCountsView(View):
    """Worker-to-worker: this worker's counts, as ``scope=local`` (needs the cluster token)."""

    async def get(self, request: Request) -> Response:
        return await _local_view(self)
