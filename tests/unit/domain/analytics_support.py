"""An in-memory row store and event builders for the analytics domain tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.analytics_apply import Result, apply_click, apply_purchase
from domain.analytics_windows import WindowPolicy
from domain.click_events import ClickEvent, ClickType
from domain.session_purchase import SessionPurchase

__all__ = ["T0", "DictRows", "Feed", "at", "click", "examples", "purchase"]

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def examples(default: int) -> int:
    """``max_examples`` of a crash property: ``SHOPSTREAM_MAX_EXAMPLES`` raises it for a deep run.

    An explicit ``@settings(max_examples=...)`` wins over a Hypothesis profile,
    hence this variable (e.g. ``SHOPSTREAM_MAX_EXAMPLES=3000``).
    """
    return int(os.environ.get("SHOPSTREAM_MAX_EXAMPLES", default))


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


@dataclass
class DictRows:
    """A RowStore on a dict, recording every write in order (for crash simulations)."""

    rows: dict[bytes, dict[str, Any]] = field(default_factory=dict)
    log: list[tuple[bytes, dict[str, Any] | None]] = field(default_factory=list)

    def get(self, key: bytes) -> dict[str, Any] | None:
        value = self.rows.get(key)
        return None if value is None else deepcopy(value)

    def put(self, key: bytes, value: dict[str, Any]) -> None:
        self.rows[key] = deepcopy(value)
        self.log.append((key, deepcopy(value)))

    def delete(self, key: bytes) -> None:
        self.rows.pop(key, None)
        self.log.append((key, None))

    def scan(self, start: bytes, stop: bytes) -> Iterator[tuple[bytes, dict[str, Any]]]:
        for key in sorted(k for k in self.rows if start <= k < stop):
            yield key, deepcopy(self.rows[key])

    @classmethod
    def from_log(cls, log: list[tuple[bytes, dict[str, Any] | None]]) -> DictRows:
        """The store a crash leaves behind: the first writes of ``log``, replayed."""
        store = cls()
        for key, value in log:
            if value is None:
                store.delete(key)
            else:
                store.put(key, value)
        return store


def click(
    event_id: str,
    kind: ClickType | str,
    session: str,
    when: datetime,
    sku: str | None = None,
) -> ClickEvent:
    return ClickEvent(
        event_id=event_id,
        type=ClickType(kind),
        session_id=session,
        occurred_at=when,
        customer_id=None,
        sku=sku,
        category=None,
    )


def purchase(
    order_id: str,
    session: str | None,
    when: datetime,
    total: str = "10.00",
    currency: str = "EUR",
    items: tuple[tuple[str, int], ...] = (("sku-1", 1),),
    source: int = 0,
) -> SessionPurchase:
    return SessionPurchase(
        order_id=order_id,
        session_id=session,
        customer_id="c-1",
        currency=currency,
        total=Decimal(total),
        items=items,
        occurred_at=when,
        source_partition=source,
    )


@dataclass
class Feed:
    """Applies records to one partition with increasing offsets per stream."""

    store: DictRows = field(default_factory=DictRows)
    partition: int = 0
    policy: WindowPolicy = field(default_factory=WindowPolicy)
    click_offset: int = 0
    purchase_offset: int = 0

    def click(self, event: ClickEvent, *, offset: int | None = None) -> Result:
        if offset is None:
            offset = self.click_offset
            self.click_offset += 1
        return apply_click(self.store, self.partition, offset, event, self.policy)

    def purchase(self, event: SessionPurchase, *, offset: int | None = None) -> Result:
        if offset is None:
            offset = self.purchase_offset
            self.purchase_offset += 1
        return apply_purchase(self.store, self.partition, offset, event, self.policy)
