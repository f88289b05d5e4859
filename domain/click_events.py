"""Clickstream events, validated at the edge (DESIGN.md "Topics", ``clickstream``).

``event_id``, ``type``, ``session_id`` and ``occurred_at`` are required;
``customer_id``, ``sku`` and ``category`` may be null or absent. Unknown extra
fields are tolerated (producers may add some). Anything else raises
:class:`InvalidClickEvent` with a short reason for the dead-letter record.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, NamedTuple

from domain.errors import InvalidInput
from domain.timefmt import InvalidTimestamp, parse_event_time, truncate_to_millis

__all__ = ["ClickEvent", "ClickType", "InvalidClickEvent", "click_event_from_wire"]

#: Ids longer than this are poison, not keys (the same bound as the order pipeline's).
MAX_ID_LENGTH: Final = 128


class InvalidClickEvent(InvalidInput):
    """A decoded value that is not a valid clickstream event."""


class ClickType(StrEnum):
    """The clickstream event types of DESIGN.md (values are the wire strings)."""

    PAGE_VIEW = "page_view"
    SEARCH = "search"
    PRODUCT_VIEW = "product_view"
    ADD_TO_CART = "add_to_cart"
    REMOVE_FROM_CART = "remove_from_cart"
    CHECKOUT_STARTED = "checkout_started"


class ClickEvent(NamedTuple):
    """One shopper action; ``occurred_at`` is UTC, cut to the milliseconds the wire keeps.

    A named tuple rather than a frozen dataclass: just as immutable, and built
    in a quarter of the time (a frozen dataclass sets each field through
    ``object.__setattr__``), once per click (``_replace`` makes a changed copy).
    """

    event_id: str
    type: ClickType
    session_id: str
    occurred_at: datetime
    customer_id: str | None = None
    sku: str | None = None
    category: str | None = None


def _fail(message: str) -> InvalidClickEvent:
    return InvalidClickEvent(f"clickstream event: {message}")


def _ident(value: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    raw = value.get(name)
    if raw is None:
        if required:
            raise _fail(f"{name} is missing")
        return None
    if not isinstance(raw, str):
        raise _fail(f"{name} must be a string, got {type(raw).__name__}")
    if not raw.strip():
        raise _fail(f"{name} is empty")
    if len(raw) > MAX_ID_LENGTH:
        raise _fail(f"{name} is longer than {MAX_ID_LENGTH} characters")
    return raw


#: The types by wire string: a dict lookup per click, not the Enum's call.
_TYPES: Final = {member.value: member for member in ClickType}


def _type(value: Mapping[str, Any]) -> ClickType:
    raw = value.get("type")
    if raw is None:
        raise _fail("type is missing")
    if not isinstance(raw, str):
        raise _fail(f"type must be a string, got {type(raw).__name__}")
    found = _TYPES.get(raw)
    if found is None:
        raise _fail(f"unknown type {raw!r:.60}")
    return found


def _plain_id(raw: object) -> bool:
    """Whether ``raw`` is an id :func:`_ident` takes as it is (the check of nearly every id).

    ``not isspace()`` of a non-empty string is ``strip()`` leaving something.
    """
    return type(raw) is str and 0 < len(raw) <= MAX_ID_LENGTH and not raw.isspace()


def click_event_from_wire(value: Mapping[str, Any], *, key: bytes | None = None) -> ClickEvent:
    """Validate one decoded clickstream value; ``key`` (when given) must be its session.

    The key check matters: a session's clicks and purchases must meet on one
    partition, which only holds when the record is keyed by ``session_id``.
    Ids that pass :func:`_plain_id` are taken without a call each (this runs
    once per click); anything else goes through :func:`_ident`, which says
    what is wrong.
    """
    if not isinstance(value, Mapping):
        raise _fail(f"value is a {type(value).__name__}, not an object")
    get = value.get
    raw_type = get("type")
    click_type = _TYPES.get(raw_type) if type(raw_type) is str else None
    if click_type is None:
        click_type = _type(value)
    event_id = get("event_id")
    if not _plain_id(event_id):
        event_id = _ident(value, "event_id", required=True)
    session_id = get("session_id")
    if not _plain_id(session_id):
        session_id = _ident(value, "session_id", required=True)
    try:
        occurred_at = truncate_to_millis(parse_event_time(get("occurred_at")))
    except InvalidTimestamp as exc:
        raise _fail(str(exc)) from None
    if event_id is None or session_id is None:  # unreachable: required=True raises
        raise _fail("event_id and session_id are required")
    if key is not None and key.decode("utf-8", "replace") != session_id:
        raise _fail(
            f"key {key[:64]!r} differs from session_id {session_id!r}: "
            "the event is on the wrong partition"
        )
    customer_id = get("customer_id")
    if customer_id is not None and not _plain_id(customer_id):
        customer_id = _ident(value, "customer_id", required=False)
    sku = get("sku")
    if sku is not None and not _plain_id(sku):
        sku = _ident(value, "sku", required=False)
    category = get("category")
    if category is not None and not _plain_id(category):
        category = _ident(value, "category", required=False)
    return ClickEvent(
        event_id=event_id,
        type=click_type,
        session_id=session_id,
        occurred_at=occurred_at,
        customer_id=customer_id,
        sku=sku,
        category=category,
    )
