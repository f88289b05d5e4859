"""Retry policy of the order-status webhook: which failures retry, and when.

Failed calls travel through retry topics, one per attempt level, each with a
fixed delay that grows by level (``base * 4 ** (level - 1)``: 1 s, 4 s, 16 s, ...
with the default base). A level's records all wait the same time, so a retry
agent sleeping until the head record is due never delays a record behind it
more than that record's own delay. After ``max_attempts`` the call is dead.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RetryPlan", "is_retriable_status", "next_step", "retry_delay"]

#: HTTP statuses worth retrying: the receiver may succeed later.
_RETRIABLE_4XX = frozenset({408, 425, 429})


def is_retriable_status(status: int) -> bool:
    """5xx and a few 4xx (timeout, too early, rate limit) retry; other 4xx never will."""
    return status >= 500 or status in _RETRIABLE_4XX


def retry_delay(level: int, *, base_seconds: float) -> float:
    """Seconds a record waits on retry level ``level`` (1-based) before its next attempt."""
    if level < 1:
        raise ValueError(f"retry level starts at 1, got {level}")
    return base_seconds * float(4 ** (level - 1))


@dataclass(frozen=True, slots=True)
class RetryPlan:
    """What to do after a failed attempt: retry on ``level``, or give up (``level`` None)."""

    level: int | None
    delay_seconds: float = 0.0

    @property
    def dead(self) -> bool:
        return self.level is None


def next_step(
    attempts_made: int, *, retriable: bool, max_attempts: int, base_seconds: float
) -> RetryPlan:
    """After ``attempts_made`` failed attempts: the retry level to go to, or dead."""
    if not retriable or attempts_made >= max_attempts:
        return RetryPlan(level=None)
    return RetryPlan(
        level=attempts_made, delay_seconds=retry_delay(attempts_made, base_seconds=base_seconds)
    )
