"""The replay oracle: what a worker must answer after consuming a recorded log.

A plain-Python fold over the log's records that shares no code with the
worker (nothing from ``app``, ``agents``, ``domain`` or ``tables``; stdlib and
:mod:`decimal` only), rebuilt from DESIGN.md:

* each record is judged on its own bytes (:mod:`tests.replay.oracle_records`):
  a valid fact, or a dead letter;
* order-pipeline facts fold into final order states, customers and fraud
  flags (:mod:`tests.replay.oracle_orders`);
* clicks and created orders answer the analytics queries
  (:mod:`tests.replay.oracle_analytics`).

The log's ``kind`` labels (what the load generator meant a record to be) are
not used to decide anything; :func:`expect` only checks them afterwards, so a
generator and oracle that disagree about what is poison say so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tests.replay.oracle_analytics import Analytics
from tests.replay.oracle_orders import FraudLimits, OrderOutcome, OrdersFold, fold_orders
from tests.replay.oracle_records import Click, LogRecord, Malformed, OrderFact, judged

__all__ = ["DeadLetter", "Expectation", "expect"]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record the worker must put on ``dead-letters``, with the original key and bytes."""

    source_topic: str
    key: str | None
    value: bytes
    stage: str
    reason: str


@dataclass(frozen=True, slots=True)
class Expectation:
    """Everything a log determines, ready to compare with the worker's answers."""

    orders: dict[str, OrderOutcome]
    customers: dict[str, dict[str, Any]]
    analytics: Analytics
    dead_letters: tuple[DeadLetter, ...]
    #: Valid order-pipeline events that never apply (no order, or no prerequisite).
    waiting: tuple[OrderFact, ...]
    flagged: frozenset[str]
    #: Earliest and latest event time of the valid events (epoch ms).
    first_at: int
    last_at: int
    #: Records whose ``kind`` label disagrees with the oracle's verdict, by log line.
    kind_disagreements: tuple[int, ...]

    def status_counts(self) -> dict[str, int]:
        """Orders per final status (the ``/analytics/order-status-counts`` answer)."""
        return dict(Counter(order.status for order in self.orders.values()))

    def dead_letters_by_topic(self) -> dict[str, int]:
        return dict(Counter(letter.source_topic for letter in self.dead_letters))


def expect(records: Iterable[LogRecord], limits: FraudLimits) -> Expectation:
    """Fold ``records`` (one log, or several in the order they were produced)."""
    clicks: list[Click] = []
    facts: list[OrderFact] = []
    letters: list[DeadLetter] = []
    disagreements: list[int] = []
    for record, verdict in judged(records):
        if isinstance(verdict, Malformed):
            letters.append(
                DeadLetter(record.topic, record.key, record.value, verdict.stage, verdict.reason)
            )
        elif isinstance(verdict, Click):
            clicks.append(verdict)
        else:
            facts.append(verdict)
        if record.kind and (record.kind == "malformed") != isinstance(verdict, Malformed):
            disagreements.append(record.line)
    fold: OrdersFold = fold_orders(facts, limits)
    times = [c.at for c in clicks] + [f.at for f in facts]
    return Expectation(
        orders=fold.orders,
        customers=fold.customers,
        analytics=Analytics.of(clicks, fold.created),
        dead_letters=tuple(letters),
        waiting=tuple(fold.waiting),
        flagged=frozenset(fold.flagged),
        first_at=min(times, default=0),
        last_at=max(times, default=0),
        kind_disagreements=tuple(disagreements),
    )
