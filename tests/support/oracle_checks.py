"""Comparing a running worker with the replay oracle: every endpoint, table and output topic.

Shared by the stream-replay test and the fault tests (worker crashes,
scale-out, broker failure): each produces a known set of records, folds them
with :mod:`tests.replay.oracle` and asks :func:`check_all` whether the
worker's answers, ``order-status``, ``alerts`` and ``dead-letters`` agree.
"""

from __future__ import annotations

import asyncio
import base64
import math
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from itertools import pairwise
from typing import Any
from urllib.parse import quote

import pytest

from loadgen import SimEvent
from tests.replay.oracle import Expectation
from tests.replay.oracle_analytics import MINUTE_MS, SESSION_GAP_MS
from tests.replay.oracle_orders import FraudLimits
from tests.replay.oracle_records import LogRecord, format_ms
from tests.support.kafka_io import read_topic
from tests.support.worker_process import WorkerProcess

__all__ = [
    "ANALYTICS_PATHS",
    "COUNTS_PATH",
    "LIMITS",
    "WORKER_ENV",
    "analytics_probes",
    "check_alerts",
    "check_all",
    "check_analytics",
    "check_customers",
    "check_dead_letters",
    "check_order_status_topic",
    "check_orders",
    "check_status_counts",
    "log_records",
]

#: Low enough to flag a few orders of each log (by count and by amount).
#: Offsets (topic -> partition -> offset) to read output topics from; None: the beginning.
After = Mapping[str, Mapping[int, int]] | None


def _from(after: After, topic: str) -> Mapping[int, int] | None:
    return None if after is None else after[topic]


LIMITS = FraudLimits(max_orders=2, max_amount=Decimal("800.00"))
#: The worker settings the oracle assumes: :data:`LIMITS`, and a pending sweep
#: that never fires (it compares event time with the wall clock, and the logs'
#: events are from 2025: they would be "overdue" while waiting for their order).
WORKER_ENV = {**LIMITS.env(), "SHOPSTREAM_PENDING_MAX_WAIT_HOURS": "1000000"}
CONVERGE_SECONDS = 60.0
#: Endpoints whose absence (404: not built yet) skips their comparisons with a warning;
#: without the analytics engine nothing consumes ``clickstream``, so no dead letters from it.
ANALYTICS_PATHS = (
    "/analytics/revenue?minutes=1",
    "/analytics/top-products?minutes=1",
    "/analytics/funnel?minutes=1",
    "/analytics/sessions",
)
COUNTS_PATH = "/analytics/order-status-counts"


# -- comparing -----------------------------------------------------------------------------


def _same(expected: Any, actual: Any) -> bool:
    """Equality, with floats equal to 1e-9 relative (rates and averages are computed)."""
    if isinstance(expected, float) and isinstance(actual, int | float):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            _same(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list | tuple) and isinstance(actual, list | tuple):
        return len(expected) == len(actual) and all(map(_same, expected, actual))
    return bool(expected == actual)


async def _converge(what: str, expected: Mapping[str, Any], fetch: Callable[[str], Any]) -> None:
    """Poll ``fetch(key)`` until it equals ``expected[key]`` for every key, then check all once more.

    Fails with every difference left when time is up.
    """
    deadline = time.monotonic() + CONVERGE_SECONDS
    answers: dict[str, Any] = {}
    waiting = dict(expected)
    while waiting:
        for key in list(waiting):
            answers[key] = await asyncio.to_thread(fetch, key)
            if _same(waiting[key], answers[key]):
                del waiting[key]
        if waiting and time.monotonic() > deadline:
            break
        if waiting:
            await asyncio.sleep(0.5)
    for key in expected.keys() - waiting.keys():  # nothing may move once converged
        answers[key] = await asyncio.to_thread(fetch, key)
        if not _same(expected[key], answers[key]):
            waiting[key] = expected[key]
    diffs = [
        f"  {key}:\n    oracle: {expected[key]!r}\n    worker: {answers[key]!r}"
        for key in sorted(waiting)
    ]
    assert not diffs, f"{what}: {len(diffs)} of {len(expected)} differ\n" + "\n".join(diffs[:15])


# -- what to ask ---------------------------------------------------------------------------


def _iso(ms: int) -> str:
    return quote(format_ms(ms), safe="")


def analytics_probes(
    expected: Expectation, start: int, last: int, *, skip_ambiguous: bool = False
) -> dict[str, Any]:
    """Analytics requests over one log's event time, with the oracle's answers.

    ``start`` is the log's first minute, ``last`` its last event; ranges are
    whole minutes (the worker would round others up), from one minute to the whole log.
    A top-products probe whose answer depends on whether unviewed products rank
    fails, or with ``skip_ambiguous`` is left out (a log cut in two has products
    bought in one half and viewed in the other).
    """
    a = expected.analytics
    end = last - last % MINUTE_MS + 2 * MINUTE_MS
    whole = (end - start) // MINUTE_MS
    one, two = start + MINUTE_MS, start + 2 * MINUTE_MS
    gap_after = SESSION_GAP_MS + MINUTE_MS
    probes: dict[str, Any] = {}
    for until, minutes in ((end, whole), (one, 1), (two, 2), (end, 1)):
        query = f"minutes={minutes}&until={_iso(until)}"
        probes[f"/analytics/revenue?{query}"] = a.revenue(until, minutes)
        probes[f"/analytics/funnel?{query}"] = a.funnel(until, minutes)
    for n, until, minutes in ((5, end, whole), (1000, end, whole), (3, one, 1), (10, two, 2)):
        answer = a.top_products(n, until, minutes)
        # Whether unviewed products may rank is open in DESIGN.md: ask where it does not matter.
        same = answer == replace(a, rank_unviewed=True).top_products(n, until, minutes)
        if skip_ambiguous and not same:
            continue
        assert same
        probes[f"/analytics/top-products?n={n}&minutes={minutes}&until={_iso(until)}"] = answer
    for until in (one, end, start + gap_after, end + gap_after):
        sessions = a.sessions(until)
        # DESIGN.md gives no precision; the worker rounds to the millisecond of its event times.
        average = pytest.approx(sessions["average_duration_seconds"], abs=0.0005, rel=0)
        probes[f"/analytics/sessions?until={_iso(until)}"] = {
            **sessions,
            "average_duration_seconds": average,
        }
    return probes


def _normalized(path: str, body: Any) -> Any:
    """Revenue buckets of one minute put in currency order, if the buckets are oldest first.

    DESIGN.md fixes "oldest first" only; buckets in any other order stay as
    they are, so the comparison shows them.
    """
    if path.startswith("/analytics/revenue") and isinstance(body, dict):
        buckets = body.get("buckets")
        if isinstance(buckets, list) and all(isinstance(b, dict) for b in buckets):
            starts = [str(b.get("start")) for b in buckets]
            if starts == sorted(starts):
                ordered = sorted(
                    buckets, key=lambda b: (str(b.get("start")), str(b.get("currency")))
                )
                return {**body, "buckets": ordered}
    return body


# -- the checks ----------------------------------------------------------------------------


async def check_orders(worker: WorkerProcess, expected: Expectation) -> None:
    deadline = time.monotonic() + CONVERGE_SECONDS
    for order_id, order in expected.orders.items():  # the HTTP wait first: cheap when done
        wait = min(8.0, deadline - time.monotonic())  # below http_get's 10 s
        if wait <= 0:
            break
        worker.get(f"/orders/{order_id}?wait_for={order.status}&timeout={wait:.1f}")

    def view(order_id: str) -> Any:
        status, body = worker.get(f"/orders/{order_id}")
        wanted = expected.orders[order_id].view()
        return {key: body.get(key) for key in wanted} if status == 200 else (status, body)

    await _converge("GET /orders", {o: order.view() for o, order in expected.orders.items()}, view)
    # The history depends on arrival order; only its shape is fixed.
    for order_id, order in expected.orders.items():
        _, body = worker.get(f"/orders/{order_id}")
        history = body["history"]
        assert [h["version"] for h in history] == list(range(1, body["version"] + 1)), body
        assert history[0]["status"] == "CREATED" and history[-1]["status"] == order.status
        assert all(a["status"] != b["status"] for a, b in pairwise(history))
        for change in history:
            assert change["status"] == "ON_HOLD" or change["caused_by"] in order.event_ids, body
    poisoned = {d.key or "" for d in expected.dead_letters if d.source_topic != "clickstream"}
    for key in sorted(poisoned - expected.orders.keys()):  # poison creates no order
        assert worker.get(f"/orders/{key}")[0] == 404, key


async def check_customers(worker: WorkerProcess, expected: Expectation) -> None:
    def customer(customer_id: str) -> Any:
        status, body = worker.get(f"/customers/{customer_id}")
        return body if status == 200 else (status, body)

    await _converge("GET /customers", expected.customers, customer)


async def check_analytics(worker: WorkerProcess, probes: dict[str, Any]) -> None:
    def ask(path: str) -> Any:
        status, body = worker.get(path)
        return _normalized(path, body) if status == 200 else (status, body)

    await _converge("GET /analytics", probes, ask)


async def check_order_status_topic(
    worker: WorkerProcess, bootstrap: str, expected: Expectation, *, after: After = None
) -> int:
    """``order-status`` alone rebuilds each order: one change per version, as in the history.

    Output is at-least-once after a crash: a change may be published again, but
    only as the identical record with the same ``(order_id, version)``.
    Deduplicated by that pair, each order's changes must be exactly its history
    (versions 1..n, no gap) ending in the oracle's status. Returns how many
    repeated records were seen.
    """
    histories = {o: worker.get(f"/orders/{o}")[1]["history"] for o in expected.orders}
    wanted = sum(len(h) for h in histories.values())

    def changes(records: list[dict[str, Any]]) -> dict[str, dict[int, list[Any]]]:
        per_order: dict[str, dict[int, list[Any]]] = {}
        for record in records:
            value = record["value"]
            if record["key"] in histories:
                versions = per_order.setdefault(record["key"], {})
                versions.setdefault(value["version"], []).append(value)
        return per_order

    records = await read_topic(
        bootstrap,
        "order-status",
        until=lambda rs: sum(map(len, changes(rs).values())) >= wanted,
        timeout=30,
        start_offsets=_from(after, "order-status"),
    )
    rebuilt = changes(records)
    repeats = 0
    for order_id, history in histories.items():
        versions = rebuilt.get(order_id, {})
        for version, copies in versions.items():
            assert all(copy == copies[0] for copy in copies), (order_id, version, copies)
            repeats += len(copies) - 1
        sequence = [
            versions[v][0]["status"] if v in versions else None for v in range(1, len(history) + 1)
        ]
        assert sequence == [h["status"] for h in history], (order_id, sequence, history)
        assert max(versions) == len(history), order_id
        assert sequence[-1] == expected.orders[order_id].status
    return repeats


async def check_alerts(bootstrap: str, expected: Expectation, *, after: After = None) -> None:
    wanted = {(o, kind) for o, order in expected.orders.items() for kind in order.alerts}

    def raised(records: list[dict[str, Any]]) -> set[tuple[str, str]]:
        return {(r["key"], r["value"]["kind"]) for r in records if r["key"] in expected.orders}

    records = await read_topic(
        bootstrap,
        "alerts",
        until=lambda rs: raised(rs) >= wanted,
        timeout=30,
        start_offsets=_from(after, "alerts"),
    )
    assert raised(records) == wanted


async def check_dead_letters(
    bootstrap: str,
    expected: Expectation,
    keys: set[str],
    *,
    clicks_consumed: bool,
    after: After = None,
) -> None:
    wanted = Counter(
        (d.source_topic, d.key, d.value, d.stage)
        for d in expected.dead_letters
        if clicks_consumed or d.source_topic != "clickstream"
    )

    def letters(records: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
        """One letter per input record (topic, partition, offset): a crash may repeat one."""
        per_input = {
            (r["value"]["source_topic"], r["value"]["partition"], r["value"]["offset"]): (
                r["value"]["source_topic"],
                r["key"],
                base64.b64decode(r["value"]["value_b64"]),
                r["value"]["stage"],
            )
            for r in records
            if r["key"] in keys
        }
        return Counter(per_input.values())

    records = await read_topic(
        bootstrap,
        "dead-letters",
        until=lambda rs: letters(rs).total() >= wanted.total(),
        timeout=30,
        start_offsets=_from(after, "dead-letters"),
    )
    got = letters(records)
    assert got == wanted, (
        f"missing: {list((wanted - got).elements())[:5]}\n"
        f"unexpected: {list((got - wanted).elements())[:5]}"
    )


async def check_status_counts(worker: WorkerProcess, expected: Expectation) -> None:
    """Only meaningful on the replay's own broker, where every order is the logs'."""

    def counts(_: str) -> Any:
        status, body = worker.get(COUNTS_PATH)
        if status != 200:
            return (status, body)
        return {
            "complete": body["complete"],
            "counts": {k: v for k, v in body["counts"].items() if v},
        }

    await _converge(
        "GET /analytics/order-status-counts",
        {"all": {"complete": True, "counts": expected.status_counts()}},
        counts,
    )


# -- all at once ---------------------------------------------------------------------------


def log_records(events: Iterable[SimEvent]) -> list[LogRecord]:
    """Generated records as the oracle reads a recorded log (line numbers from 1)."""
    return [LogRecord(e.topic, e.key, e.value, e.kind, n) for n, e in enumerate(events, 1)]


def served_paths(worker: WorkerProcess) -> dict[str, bool]:
    """Which optional endpoints the worker serves (404: not built, not compared)."""
    return {path: worker.get(path)[0] != 404 for path in (*ANALYTICS_PATHS, COUNTS_PATH)}


async def check_all(
    worker: WorkerProcess,
    bootstrap: str,
    expected: Expectation,
    probes: Mapping[str, Any],
    *,
    keys: set[str],
    whole_broker: bool = True,
    after: After = None,
) -> dict[str, int]:
    """Every comparison with the oracle, through ``worker``; raises with the worker's log tail.

    ``keys`` are the produced record keys (to pick this run's dead letters);
    ``whole_broker`` says every order on the broker is this run's, so the
    global status counts can be compared too; ``after`` reads the output topics
    from these offsets on (e.g. only what a replay re-emitted). Returns
    repeated output records.
    """
    served = served_paths(worker)
    analytics = all(served[path] for path in ANALYTICS_PATHS)
    if not all(served.values()):
        missing = [path for path, there in served.items() if not there]
        warnings.warn(f"not served, so not compared: {missing}", stacklevel=2)
    try:
        await check_orders(worker, expected)
        await check_customers(worker, expected)
        if analytics:
            await check_analytics(worker, dict(probes))
        repeats = await check_order_status_topic(worker, bootstrap, expected, after=after)
        await check_alerts(bootstrap, expected, after=after)
        await check_dead_letters(bootstrap, expected, keys, clicks_consumed=analytics, after=after)
        if served[COUNTS_PATH] and whole_broker:
            await check_status_counts(worker, expected)
    except AssertionError as failure:
        tail = worker.log_tail(25)
        raise AssertionError(f"{failure}\n--- {worker.name} log ---\n{tail}") from None
    return {"order_status_repeats": repeats}
