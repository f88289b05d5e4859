"""Commands for the order pipeline: what other stages ask of an order's owner.

The fraud stage (keyed by customer) cannot touch an order's state (keyed by
order); it sends a ``hold`` command on a topic co-partitioned with ``orders``.
A periodic sweep sends ``expire_pending`` for orders whose early events have
waited too long. Both are applied inside the order agent, in order with the
order's events, so there is one writer per order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.timefmt import InvalidTimestamp, format_time, parse_time

__all__ = ["ExpirePending", "HoldOrder", "InvalidCommand", "OrderCommand", "command_from_wire"]


class InvalidCommand(ValueError):
    """A command record that cannot be read."""


@dataclass(frozen=True, slots=True)
class HoldOrder:
    """Put an order ON_HOLD for an outside verdict; ``caused_by`` makes it idempotent."""

    order_id: str
    reason: str
    caused_by: str
    occurred_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "command": "hold",
            "order_id": self.order_id,
            "reason": self.reason,
            "caused_by": self.caused_by,
            "occurred_at": format_time(self.occurred_at),
        }


@dataclass(frozen=True, slots=True)
class ExpirePending:
    """Dead-letter the order's events that waited longer than allowed, as of ``now``."""

    order_id: str
    now: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "command": "expire_pending",
            "order_id": self.order_id,
            "now": format_time(self.now),
        }


OrderCommand = HoldOrder | ExpirePending


def _text(value: Mapping[str, Any], name: str) -> str:
    field = value.get(name)
    if not isinstance(field, str) or not field:
        raise InvalidCommand(f"command field {name} must be a non-empty string")
    return field


def command_from_wire(value: Mapping[str, Any]) -> OrderCommand:
    """Read a command record (raises InvalidCommand)."""
    kind = value.get("command")
    try:
        if kind == "hold":
            return HoldOrder(
                order_id=_text(value, "order_id"),
                reason=_text(value, "reason"),
                caused_by=_text(value, "caused_by"),
                occurred_at=parse_time(value.get("occurred_at")),
            )
        if kind == "expire_pending":
            return ExpirePending(
                order_id=_text(value, "order_id"), now=parse_time(value.get("now"))
            )
    except InvalidTimestamp as exc:
        raise InvalidCommand(str(exc)) from None
    raise InvalidCommand(f"unknown command {kind!r:.40}")
