"""Benchmark: a backlog of created orders drained into the customers table, with and without crashes.

The issue-11 case: N ``order_created`` events (plus 10 % duplicates: the same
event re-sent, at a later offset) wait on ``orders`` when one worker starts.
Every order goes through the order lifecycle, ``customer-orders``, the
customer-orders agent (summaries and fraud) and ``session-purchases``.

- *drained*: one worker of a fresh group; timed as in the throughput
  benchmark (committed offsets of ``orders`` and of the internal topics, from
  the first commit mark to lag 0), expressed in orders/s (distinct orders);
- *after SIGKILLs*: the same backlog, a worker SIGKILLed ``crashes`` times
  (the k-th once ``order-status`` holds k/(4 * crashes) of the orders'
  ``CREATED`` changes, and one more since the restart: the same points
  whatever the variant and drain rate, within a commit interval of
  re-processing) and started again as a supervisor restarts it: the same
  process definition, data directory and port; then the seconds from the last
  restart (process start) until the group has committed the whole backlog and
  every customer's ``GET /customers/{id}`` equals the expected summary. Measured
  twice: with ``SHOPSTREAM_INSTANCE_ID`` (static membership, as a deployment
  under systemd or a StatefulSet sets it: the restart takes its old place in
  the group at once) and without (the restart first waits for the killed
  member's 10 s session to expire).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from app.kafka.topic_names import ORDER_STATUS, ORDERS
from bench.harness import Harness
from bench.kafka import GroupProgress, preload
from bench.report import Row
from bench.stats import summarize
from bench.throughput import drain_with_workers
from domain.timefmt import format_time

__all__ = ["Backlog", "backlog", "run_orders_backlog"]

#: Orders per customer: below the fraud limit (10 per hour), so nothing is held.
ORDERS_PER_CUSTOMER = 5
DUPLICATE_SHARE = 0.10
CONVERGE_TIMEOUT = 300.0
#: The SIGKILLs fall in the first 1/KILL_SHARE of the backlog, at fixed points of its output.
KILL_SHARE = 4


@dataclass(frozen=True, slots=True)
class Backlog:
    """The records to pre-load and what ``GET /customers/{id}`` must answer afterwards."""

    records: list[tuple[str, bytes, bytes]]
    orders: int
    customers: dict[str, dict[str, Any]]


def backlog(orders: int, seed: int) -> Backlog:
    """``orders`` created orders of ``orders / 5`` customers, then 10 % of them again."""
    start = datetime.now(UTC) - timedelta(days=2)
    records: list[tuple[str, bytes, bytes]] = []
    expected: dict[str, dict[str, Any]] = {}
    for n in range(orders):
        customer = f"bench-{seed}-c{n % max(1, orders // ORDERS_PER_CUSTOMER)}"
        order_id = f"bench-{seed}-o{n}"
        total = Decimal(10 + n % 90) + Decimal("0.50")
        # an hour and a bit between one customer's orders: no velocity flag
        at = start + timedelta(minutes=61 * (n // max(1, orders // ORDERS_PER_CUSTOMER)))
        at += timedelta(milliseconds=n)
        stamp = format_time(at)
        value = {
            "event_id": f"e-{order_id}",
            "type": "order_created",
            "order_id": order_id,
            "customer_id": customer,
            "session_id": f"s-{order_id}",
            "currency": "EUR",
            "total": f"{total:.2f}",
            "items": [
                {
                    "sku": f"sku-{n % 50}",
                    "category": "books",
                    "quantity": 1,
                    "unit_price": f"{total:.2f}",
                }
            ],
            "occurred_at": stamp,
        }
        records.append((ORDERS, order_id.encode(), orjson.dumps(value)))
        summary = expected.setdefault(
            customer, {"customer_id": customer, "orders": 0, "revenue": Decimal(0), "last": stamp}
        )
        summary["orders"] += 1
        summary["revenue"] += total
        summary["last"] = max(summary["last"], stamp)
    step = round(1 / DUPLICATE_SHARE)
    records.extend(records[i] for i in range(0, orders, step))
    customers = {
        c: {
            "customer_id": c,
            "orders": s["orders"],
            "revenue": {"EUR": f"{s['revenue']:.2f}"},
            "last_order_at": s["last"],
        }
        for c, s in expected.items()
    }
    return Backlog(records=records, orders=orders, customers=customers)


async def _all_correct(get: Callable[[str], tuple[int, Any]], customers: dict[str, Any]) -> bool:
    for customer_id, wanted in customers.items():
        status, body = await asyncio.to_thread(get, f"/customers/{customer_id}")
        if status != 200 or body != wanted:
            return False
    return True


async def _correct_after(
    progress: GroupProgress, worker: Any, load: Backlog, restarted: float
) -> float | None:
    """Seconds from ``restarted`` until the group has committed everything and it is all correct.

    Asking 4,000 customers over HTTP takes seconds and loads the worker it
    measures, so they are asked once the committed offsets reach the end of
    the backlog and of the internal topics (cheap to poll; a commit covers
    only records whose outputs and rows are written), and the figure is that
    moment. If an answer is still wrong then, it is the moment a full check
    passes (a late answer counts against ShopStream, never for it).
    """
    deadline = restarted + CONVERGE_TIMEOUT
    drained: float | None = None
    while time.monotonic() < deadline:
        if drained is None and (await progress.sample())[2] == 0:
            drained = time.monotonic() - restarted
        if drained is not None:
            if await _all_correct(worker.get, load.customers):
                return drained
            drained = None  # not correct yet: wait for the next commit, then check again
        await asyncio.sleep(0.2)
    return None


async def _until_sent(progress: GroupProgress, point: int, orders: int) -> None:
    """Until ``order-status`` holds ``point`` records, or a change for every order.

    The second bound keeps a fast worker from being waited for forever: one
    that sent everything before the restart has nothing more to send after it.
    """
    while (sent := await progress.produced(ORDER_STATUS)) < point and sent < orders:
        await asyncio.sleep(0.05)


async def _drained_after_kills(
    h: Harness, load: Backlog, crashes: int, *, static: bool
) -> tuple[float, float] | None:
    """Seconds from the last restart to ``/ready``, and to every customer answering as expected.

    The one worker is started again after each SIGKILL (``start()`` keeps its
    data directory and port, and appends to its log, one section per start).
    """
    app_id = h.new_app_id("orders-kill-static" if static else "orders-kill")
    env = {"SHOPSTREAM_INSTANCE_ID": f"{app_id}-0"} if static else {}
    worker = h.worker(app_id, name="worker", env=env)
    membership = "static membership" if static else "dynamic membership"
    progress = h.progress(app_id, (ORDERS,))
    async with progress:
        try:
            worker.start()
            step = max(1, load.orders // (KILL_SHARE * crashes))
            for crash in range(1, crashes + 1):
                await asyncio.to_thread(worker.wait_ready, 300)
                at_ready = await progress.produced(ORDER_STATUS)
                await _until_sent(progress, max(crash * step, at_ready + 1), load.orders)
                worker.kill()
                worker.start()
            restarted = time.monotonic()
            done, _, _ = await progress.sample()
            await asyncio.to_thread(worker.wait_ready, 300)
            ready = time.monotonic() - restarted
            seconds = await _correct_after(progress, worker, load, restarted)
            if seconds is None:
                h.note(
                    f"orders after {crashes} SIGKILLs ({membership}): "
                    f"not correct after {CONVERGE_TIMEOUT}s"
                )
                return None
        finally:
            worker.stop()
    h.cleanup(app_id)
    h.log(
        f"orders after {crashes} SIGKILLs ({membership}): {done} of {len(load.records)} "
        f"records committed at the last restart; ready {ready:.1f}s, "
        f"all customers correct {seconds:.1f}s after it"
    )
    return ready, seconds


async def run_orders_backlog(h: Harness) -> list[Row]:
    """Rows: orders/s drained, and seconds to correct after SIGKILLs (static, dynamic)."""
    cfg = h.config
    rates: list[float] = []
    converged: dict[bool, list[float]] = {True: [], False: []}
    ready: dict[bool, list[float]] = {True: [], False: []}
    for rep in range(cfg.repeats):
        load = backlog(cfg.orders, cfg.seed + rep)
        per_order = load.orders / len(load.records)
        await h.fresh_topics()
        await preload(h.bootstrap, load.records)
        h.log(f"pre-loaded {len(load.records)} order_created records ({load.orders} orders)")
        rate = await drain_with_workers(h, "orders", counted=(ORDERS,))
        if rate is not None:
            rates.append(rate * per_order)
        for static in (True, False):
            await h.fresh_topics()
            await preload(h.bootstrap, load.records)
            seconds = await _drained_after_kills(h, load, cfg.backlog_crashes, static=static)
            if seconds is not None:
                ready[static].append(seconds[0])
                converged[static].append(seconds[1])
    what = f"{cfg.orders} order_created +10% duplicates"
    killed = f"{cfg.backlog_crashes} SIGKILLs"
    rows = [Row("orders", "drained into customers", what, "orders/s", summarize(rates))]
    for static, membership in ((True, "SHOPSTREAM_INSTANCE_ID set"), (False, "no instance id")):
        rows += [
            Row(
                "orders",
                f"correct after {killed}, {membership}",
                what,
                "s from last restart",
                summarize(converged[static]),
            ),
            Row(
                "orders",
                f"ready after {killed}, {membership}",
                what,
                "s from last restart",
                summarize(ready[static]),
            ),
        ]
    return rows
