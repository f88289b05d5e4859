"""The root of the domain's input errors: a short human reason for the dead-letter record."""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_REASON_LENGTH", "InvalidInput"]

#: Reasons are cut to this length so a hostile value cannot bloat dead letters.
MAX_REASON_LENGTH: Final = 300


class InvalidInput(ValueError):
    """A decoded value the domain refuses; ``reason`` goes into the dead letter."""

    def __init__(self, reason: str) -> None:
        if len(reason) > MAX_REASON_LENGTH:
            reason = reason[: MAX_REASON_LENGTH - 3] + "..."
        super().__init__(reason)
        self.reason = reason
