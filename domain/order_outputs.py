"""What the order lifecycle publishes: statuses, status changes, alerts, rejections.

These are the values of the ``order-status``, ``alerts`` and ``dead-letters``
topics (DESIGN.md "Output topics"), kept apart from the stored state so that
readers of those topics need nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from domain.order_events import OrderEvent
from domain.timefmt import format_time, parse_event_time, truncate_to_millis

__all__ = ["Alert", "OrderStatus", "Rejection", "StatusChange"]


class OrderStatus(StrEnum):
    """DESIGN.md's order statuses; the values are the wire strings."""

    CREATED = "CREATED"
    PAID = "PAID"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    ON_HOLD = "ON_HOLD"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One record of the ``order-status`` topic (and one entry of the history)."""

    order_id: str
    status: OrderStatus
    previous_status: OrderStatus | None
    reason: str | None
    caused_by: str
    version: int
    occurred_at: datetime
    #: The wire form, once :meth:`to_wire` built it (not a part of the change's value).
    _wire: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def to_wire(self) -> dict[str, Any]:
        """The DESIGN.md ``order-status`` value.

        Built once per change (it is published, then written with the order's
        history at every later change): the dict is shared, so callers encode
        it and never change it.
        """
        if self._wire is not None:
            return self._wire
        wire = {
            "order_id": self.order_id,
            "status": str(self.status),
            "previous_status": None if self.previous_status is None else str(self.previous_status),
            "reason": self.reason,
            "caused_by": self.caused_by,
            "version": self.version,
            "occurred_at": format_time(self.occurred_at),
        }
        object.__setattr__(self, "_wire", wire)
        return wire

    @classmethod
    def from_wire(cls, value: Mapping[str, Any]) -> StatusChange:
        """Read an ``order-status`` value back (raises ``KeyError``/``ValueError``)."""
        previous = value["previous_status"]
        reason = value["reason"]
        version = value["version"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError(f"version must be an integer: {version!r}")
        if reason is not None and not isinstance(reason, str):
            raise ValueError(f"reason must be a string: {reason!r}")
        return cls(
            order_id=str(value["order_id"]),
            status=OrderStatus(value["status"]),
            previous_status=None if previous is None else OrderStatus(previous),
            reason=reason,
            caused_by=str(value["caused_by"]),
            version=version,
            occurred_at=truncate_to_millis(parse_event_time(value["occurred_at"])),
        )


@dataclass(frozen=True, slots=True)
class Alert:
    """A consistency alert about one order, for the ``alerts`` topic."""

    kind: str
    order_id: str
    customer_id: str | None
    detail: str
    caused_by: str
    occurred_at: datetime

    @property
    def alert_id(self) -> str:
        """Deterministic, so that re-processing an event re-sends the same alert."""
        return f"{self.kind}:{self.order_id}:{self.caused_by}"

    def to_wire(self) -> dict[str, Any]:
        """The DESIGN.md ``alerts`` value."""
        return {
            "alert_id": self.alert_id,
            "kind": self.kind,
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "detail": self.detail,
            "occurred_at": format_time(self.occurred_at),
        }


class Rejection(NamedTuple):
    """An event that can never apply, and why; the agent dead-letters it."""

    event: OrderEvent
    reason: str
