"""The oracle's analytics: DESIGN.md's four queries, answered by scanning the log's facts.

No windows, no state, no partitions: each query filters the distinct valid
events by event time and counts, which is exactly how DESIGN.md defines them.

* Every query covers ``[until - minutes, until)`` of ``occurred_at``.
* ``revenue``: created orders (``order_created``), per minute of their event
  time and per currency; non-empty buckets only, oldest first (currencies of
  one minute in alphabetical order, DESIGN.md leaves that order open).
* ``top-products``: per sku, ``product_view`` events (views), ``add_to_cart``
  events and units ordered by created orders (purchases); ranked by views
  descending, then sku ascending (plain string order), first ``n``. Which
  products may rank is :attr:`Analytics.rank_unviewed`'s question.
* ``funnel``: distinct sessions with at least one event of a step in range;
  ``purchase`` counts the sessions named by an ``order_created`` in range;
  the conversion rate is purchase sessions over product-view sessions.
* ``sessions``: a session is a ``session_id``'s run of clickstream events
  with no gap of 30 minutes or more; it is active at ``until`` when its last
  event before ``until`` is less than 30 minutes before ``until``; its length
  runs from its first to that last event.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any, Final

from tests.replay.oracle_orders import money
from tests.replay.oracle_records import Click, OrderFact, format_ms

__all__ = ["FUNNEL_STEPS", "MINUTE_MS", "SESSION_GAP_MS", "Analytics"]

MINUTE_MS: Final = 60_000
SESSION_GAP_MS: Final = 30 * MINUTE_MS
FUNNEL_STEPS: Final = ("product_view", "add_to_cart", "checkout_started", "purchase")


@dataclass(frozen=True, slots=True)
class Analytics:
    """Answers to the analytics queries over a fixed set of facts.

    ``clicks`` are the distinct valid clickstream events, ``created`` the
    applied ``order_created`` events. ``rank_unviewed`` decides whether a
    product with purchases or add-to-carts but no view in range may rank in
    ``top-products`` (after every viewed product, by sku); DESIGN.md's "the N
    most viewed products" reads most naturally as "no".
    """

    clicks: tuple[Click, ...]
    created: tuple[OrderFact, ...]
    rank_unviewed: bool = False

    @classmethod
    def of(cls, clicks: Iterable[Click], created: Iterable[OrderFact]) -> Analytics:
        distinct: dict[str, Click] = {}
        for click in clicks:
            distinct.setdefault(click.event_id, click)
        return cls(tuple(distinct.values()), tuple(created))

    def _clicks_in(self, start: int, until: int) -> list[Click]:
        return [c for c in self.clicks if start <= c.at < until]

    def _orders_in(self, start: int, until: int) -> list[OrderFact]:
        return [o for o in self.created if start <= o.at < until]

    def revenue(self, until: int, minutes: int) -> dict[str, Any]:
        """``GET /analytics/revenue?minutes=&until=``."""
        start = until - minutes * MINUTE_MS
        sums: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
        counts: Counter[tuple[int, str]] = Counter()
        for order in self._orders_in(start, until):
            bucket = (order.at - order.at % MINUTE_MS, order.currency or "")
            sums[bucket] += order.total or Decimal(0)
            counts[bucket] += 1
        return {
            "from": format_ms(start),
            "until": format_ms(until),
            "buckets": [
                {
                    "start": format_ms(minute),
                    "currency": currency,
                    "revenue": money(sums[minute, currency]),
                    "orders": counts[minute, currency],
                }
                for minute, currency in sorted(sums)
            ],
        }

    def top_products(self, n: int, until: int, minutes: int) -> dict[str, Any]:
        """``GET /analytics/top-products?n=&minutes=&until=``."""
        start = until - minutes * MINUTE_MS
        views: Counter[str] = Counter()
        carts: Counter[str] = Counter()
        units: Counter[str] = Counter()
        for click in self._clicks_in(start, until):
            if click.sku is not None and click.type == "product_view":
                views[click.sku] += 1
            elif click.sku is not None and click.type == "add_to_cart":
                carts[click.sku] += 1
        for order in self._orders_in(start, until):
            for item in order.items:
                units[item.sku] += item.quantity
        candidates = set(views) | (set(carts) | set(units) if self.rank_unviewed else set())
        ranked = sorted(candidates, key=lambda sku: (-views[sku], sku))[:n]
        return {
            "from": format_ms(start),
            "until": format_ms(until),
            "products": [
                {
                    "sku": sku,
                    "views": views[sku],
                    "add_to_cart": carts[sku],
                    "purchases": units[sku],
                }
                for sku in ranked
            ],
        }

    def funnel(self, until: int, minutes: int) -> dict[str, Any]:
        """``GET /analytics/funnel?minutes=&until=``."""
        start = until - minutes * MINUTE_MS
        sessions: dict[str, set[str]] = {step: set() for step in FUNNEL_STEPS}
        for click in self._clicks_in(start, until):
            if click.type in sessions:
                sessions[click.type].add(click.session_id)
        for order in self._orders_in(start, until):
            if order.session_id is not None:
                sessions["purchase"].add(order.session_id)
        viewed = len(sessions["product_view"])
        return {
            "from": format_ms(start),
            "until": format_ms(until),
            "steps": [{"step": step, "sessions": len(sessions[step])} for step in FUNNEL_STEPS],
            "conversion_rate": len(sessions["purchase"]) / viewed if viewed else 0.0,
        }

    def sessions(self, until: int) -> dict[str, Any]:
        """``GET /analytics/sessions?until=``; the average is 0.0 when no session is active."""
        times: dict[str, list[int]] = defaultdict(list)
        for click in self.clicks:
            if click.at < until:
                times[click.session_id].append(click.at)
        lengths = []
        for moments in times.values():
            moments.sort()
            first = moments[0]
            for earlier, later in pairwise(moments):
                if later - earlier >= SESSION_GAP_MS:
                    first = later
            if until - moments[-1] < SESSION_GAP_MS:
                lengths.append(moments[-1] - first)
        return {
            "until": format_ms(until),
            "active_sessions": len(lengths),
            "average_duration_seconds": sum(lengths) / len(lengths) / 1000 if lengths else 0.0,
        }
