"""Money as exact decimals: the one way ShopStream reads and writes amounts.

DESIGN.md fixes money on the wire as a decimal string (``"25.00"``), never a
float. Every amount enters through :func:`parse_money` and leaves through
:func:`format_money`, so sums over millions of events stay exact.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final

__all__ = ["CENTS", "MONEY_PATTERN", "InvalidMoney", "add_money", "format_money", "parse_money"]

#: Amounts are kept to the cent; ``format_money`` always prints two decimals.
CENTS = Decimal("0.01")

#: The largest amount we accept on one event; larger values are poison, not revenue.
MAX_AMOUNT = Decimal("1000000000")

#: The wire syntax of money, shared word for word with the JSON Schema documents
#: (``schemas/*.json``, ``$defs.money``): plain digits, at most two decimals, no
#: sign, exponent, white space or leading zeros, at most :data:`MAX_AMOUNT`.
MONEY_PATTERN: Final = r"^(?:(?:0|[1-9][0-9]{0,8})(?:\.[0-9]{1,2})?|1000000000(?:\.00?)?)$"
_MONEY = re.compile(MONEY_PATTERN)


class InvalidMoney(ValueError):
    """An amount that is not a finite, non-negative decimal string."""


def parse_money(value: object, *, field: str = "amount") -> Decimal:
    """Read a wire amount; floats are refused because they are not exact.

    A string must match :data:`MONEY_PATTERN`, so that the worker and the
    published schemas accept exactly the same amounts.
    """
    if isinstance(value, bool) or not isinstance(value, str | Decimal | int):
        raise InvalidMoney(f"{field} must be a decimal string, got {type(value).__name__}")
    if isinstance(value, str) and not _MONEY.fullmatch(value):
        raise _syntax_error(value, field)
    return _checked(value, field, repr(value)).quantize(CENTS)


def _checked(value: str | Decimal | int, field: str, shown: str) -> Decimal:
    """The amount, or InvalidMoney naming the first rule it breaks (``shown`` in the reason)."""
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise InvalidMoney(f"{field} is not a decimal number: {shown}") from None
    if not amount.is_finite():
        raise InvalidMoney(f"{field} must be finite: {shown}")
    if amount < 0:
        raise InvalidMoney(f"{field} must not be negative: {shown}")
    if amount > MAX_AMOUNT:
        raise InvalidMoney(f"{field} is implausibly large: {shown}")
    if amount != amount.quantize(CENTS):
        raise InvalidMoney(f"{field} has more than two decimals: {shown}")
    return amount


def _syntax_error(value: str, field: str) -> InvalidMoney:
    """Name the most likely cause, for the dead-letter reason."""
    try:
        _checked(value, field, f"{value!r:.40}")
    except InvalidMoney as broken:
        return broken
    return InvalidMoney(f"{field} is not a plain decimal string like 25.00: {value!r:.40}")


def format_money(amount: Decimal) -> str:
    """Write an amount as DESIGN.md wants it: a plain decimal string with cents."""
    return str(amount.quantize(CENTS))


def add_money(total: str, amount: Decimal) -> str:
    """Add an amount to a stored decimal string (tables keep money as strings)."""
    return format_money(Decimal(total) + amount)
