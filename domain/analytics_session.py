"""Session state: the fold behind the funnel and the active-sessions answer.

Faust has no session windows, so sessions are built on a row per
``session_id``. The row keeps, pruned to the retention horizon:

* ``activity``: per minute with clicks, the first and last click time (ms).
  Within a minute no gap can reach 30 minutes, so these pairs are enough to
  cut a session into 30-minute-inactivity windows *exactly*, as of any
  whole-minute ``until`` (the query's), even for events that arrived out of
  order;
* ``steps``: the minutes in which the session had a funnel step
  (``product_view``, ``add_to_cart``, ``checkout_started``, and ``purchase``
  from the orders naming the session);
* ``seen`` / ``orders``: applied event ids and order ids with the source
  offset they were applied from (de-duplication; see
  :mod:`domain.analytics_apply`), bounded to :data:`MAX_SEEN` per session;
* ``indexed``: the minute under which the row is indexed (its latest minute).

In memory a state also knows a ``floor``, a minute that none of its entries
is older than (not stored, not compared): the fold of a click must prune
the state to the horizon, and with the floor it sees in O(1) that there is
nothing to prune, instead of looking at every id of the session per click.

The same row type serves orders that name no session (``orders`` only).
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from domain.analytics_query import QueryRange
from domain.analytics_windows import MINUTE_MS, SESSION_GAP_MS, epoch_ms
from domain.click_events import ClickEvent, ClickType

__all__ = [
    "FUNNEL_STEPS",
    "MAX_SEEN",
    "PURCHASE_STEP",
    "SessionState",
    "active_duration_ms",
    "fold_click",
    "fold_purchase",
    "reached_steps",
]

PURCHASE_STEP: Final = "purchase"
#: The funnel of DESIGN.md, in order.
FUNNEL_STEPS: Final = (
    ClickType.PRODUCT_VIEW.value,
    ClickType.ADD_TO_CART.value,
    ClickType.CHECKOUT_STARTED.value,
    PURCHASE_STEP,
)
#: Event ids (and order ids) one session remembers. A session with more
#: events in a day is a robot; beyond this its oldest ids are forgotten (and a
#: redelivered duplicate of one of those would count again).
MAX_SEEN: Final = 2000
#: The funnel step of each click type that is one (a dict lookup per click: ``.value`` is a
#: Python property).
_FUNNEL_STEP: Final = {kind: kind.value for kind in ClickType if kind.value in FUNNEL_STEPS}


@dataclass(slots=True)
class SessionState:
    """One session (or one session-less order), as stored.

    Never changed once built (every fold builds a new one), but not a frozen
    dataclass: that sets each field through ``object.__setattr__`` and takes
    three times as long to build, once or twice per click.
    """

    activity: tuple[tuple[int, int, int], ...] = ()  # (minute, first ms, last ms), sorted
    steps: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    seen: Mapping[str, tuple[int, int]] = field(
        default_factory=dict
    )  # event_id -> (offset, minute)
    orders: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # order_id -> same
    indexed: int | None = None
    #: No entry is older than this minute (None: not known); see the module docstring.
    floor: int | None = field(default=None, compare=False, repr=False)

    @property
    def latest_minute(self) -> int | None:
        """The latest minute with a click or an order: the row's index position."""
        latest = self.activity[-1][0] if self.activity else None
        for _, minute in self.orders.values():  # a loop, not a list: once per click
            if latest is None or minute > latest:
                latest = minute
        return latest

    def to_dict(self) -> dict[str, Any]:
        """The row as a JSON object; its arrays are the state's own tuples, not copies.

        A JSON encoder writes a tuple as an array, so the bytes are those of
        lists, and a row written at each commit no longer costs a copy of every
        id its session remembers. The parts are shared: read them, never change them.
        """
        return {
            "act": self.activity,
            "steps": self.steps,
            "seen": self.seen,
            "orders": self.orders,
            "idx": self.indexed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionState:
        return cls(
            activity=tuple((int(m), int(a), int(b)) for m, a, b in data.get("act", ())),
            steps={step: tuple(minutes) for step, minutes in data.get("steps", {}).items()},
            seen={key: (int(o), int(m)) for key, (o, m) in data.get("seen", {}).items()},
            orders={key: (int(o), int(m)) for key, (o, m) in data.get("orders", {}).items()},
            indexed=data.get("idx"),
        )

    def indexed_at(self, minute: int | None) -> SessionState:
        """This state, indexed under ``minute``."""
        if self.indexed == minute:
            return self
        return SessionState(  # not dataclasses.replace: this runs for many clicks
            activity=self.activity,
            steps=self.steps,
            seen=self.seen,
            orders=self.orders,
            indexed=minute,
            floor=self.floor,
        )

    @classmethod
    def from_row(cls, data: Mapping[str, Any] | None) -> SessionState | None:
        """:meth:`from_dict` of a stored row, None when there is none."""
        return None if data is None else cls.from_dict(data)

    def pruned(self, horizon: int | None) -> SessionState:
        """Without anything older than ``horizon`` (expired minutes are never answered)."""
        if horizon is None or (self.floor is not None and self.floor >= horizon):
            return self  # the usual case: a copy would equal it, and costs a click
        if not self._reaches_below(horizon):
            return self
        return replace(
            self,
            activity=tuple(entry for entry in self.activity if entry[0] >= horizon),
            steps={
                step: kept
                for step, minutes in self.steps.items()
                if (kept := tuple(m for m in minutes if m >= horizon))
            },
            seen={k: v for k, v in self.seen.items() if v[1] >= horizon},
            orders={k: v for k, v in self.orders.items() if v[1] >= horizon},
            floor=horizon,
        )

    def _reaches_below(self, horizon: int) -> bool:
        """Whether :meth:`pruned` would remove anything (activity and steps are sorted)."""
        return (
            bool(self.activity and self.activity[0][0] < horizon)
            or any(not minutes or minutes[0] < horizon for minutes in self.steps.values())
            or any(minute < horizon for _, minute in self.seen.values())
            or any(minute < horizon for _, minute in self.orders.values())
        )


def _bounded(ids: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """``ids`` (a new dict, returned as it is) when it holds at most MAX_SEEN, else its newest."""
    if len(ids) <= MAX_SEEN:
        return ids
    newest = sorted(ids.items(), key=lambda item: (item[1][1], item[1][0]))[-MAX_SEEN:]
    return dict(newest)


def _with_step(
    steps: Mapping[str, tuple[int, ...]], step: str, minute: int
) -> Mapping[str, tuple[int, ...]]:
    minutes = steps.get(step, ())
    if minute in minutes:
        return steps  # shared, as every state's parts are: none is ever changed
    updated = list(minutes)
    insort(updated, minute)
    return {**steps, step: tuple(updated)}


def _with_activity(
    activity: tuple[tuple[int, int, int], ...], minute: int, at_ms: int
) -> tuple[tuple[int, int, int], ...]:
    if not activity:
        return ((minute, at_ms, at_ms),)
    latest, first, last = activity[-1]
    if minute == latest:  # the usual cases first: a click in the latest minute, or a later one
        return (*activity[:-1], (minute, min(first, at_ms), max(last, at_ms)))
    if minute > latest:
        return (*activity, (minute, at_ms, at_ms))
    entries = {entry[0]: entry for entry in activity}
    _, first, last = entries.get(minute, (minute, at_ms, at_ms))
    entries[minute] = (minute, min(first, at_ms), max(last, at_ms))
    return tuple(entries[m] for m in sorted(entries))


_EMPTY: Final = SessionState()


def _floor(current: SessionState, horizon: int | None, minute: int) -> int | None:
    """The floor of ``current`` (pruned to ``horizon``) once an entry of ``minute`` is added."""
    known = current.floor
    if horizon is not None and (known is None or known < horizon):
        known = horizon  # pruned: nothing is older than the horizon
    return None if known is None else min(known, minute)


def fold_click(
    state: SessionState | None,
    click: ClickEvent,
    offset: int,
    horizon: int | None,
    *,
    at_ms: int | None = None,
) -> SessionState:
    """The session after one (new, on-time) click, pruned to ``horizon``.

    ``at_ms``: the click's :func:`epoch_ms`, when the caller has it already.
    """
    current = (state or _EMPTY).pruned(horizon)
    if at_ms is None:
        at_ms = epoch_ms(click.occurred_at)
    minute = at_ms // MINUTE_MS
    steps = current.steps
    step = _FUNNEL_STEP.get(click.type)
    if step is not None:
        steps = _with_step(steps, step, minute)
    return SessionState(  # not dataclasses.replace: this runs once per click
        activity=_with_activity(current.activity, minute, at_ms),
        steps=steps,
        seen=_bounded({**current.seen, click.event_id: (offset, minute)}),
        orders=current.orders,
        indexed=current.indexed,
        floor=_floor(current, horizon, minute),
    )


def fold_purchase(
    state: SessionState | None,
    order_id: str,
    offset: int,
    occurred_minute: int,
    horizon: int | None,
    *,
    names_session: bool,
) -> SessionState:
    """The owner row after one (new, on-time) order; a session also reaches ``purchase``."""
    current = (state or _EMPTY).pruned(horizon)
    steps = current.steps
    if names_session:
        steps = _with_step(steps, PURCHASE_STEP, occurred_minute)
    return replace(
        current,
        steps=steps,
        orders=_bounded({**current.orders, order_id: (offset, occurred_minute)}),
        floor=_floor(current, horizon, occurred_minute),
    )


def reached_steps(state: SessionState, span: QueryRange, horizon: int | None) -> Iterable[str]:
    """The funnel steps the session had at least once within ``span``."""
    low = span.start if horizon is None else max(span.start, horizon)
    for step in FUNNEL_STEPS:
        if any(low <= minute < span.end for minute in state.steps.get(step, ())):
            yield step


def active_duration_ms(state: SessionState, until: int, horizon: int | None) -> int | None:
    """Length of the session's window that is active at ``until`` (epoch minute), or None.

    Only clicks before ``until`` count. The session is active when its last
    such click is less than 30 minutes before ``until``; its window goes back
    over gaps shorter than 30 minutes, and its length is last - first click.
    """
    until_ms = until * MINUTE_MS
    low = horizon if horizon is not None else None
    entries = [e for e in state.activity if e[0] < until and (low is None or e[0] >= low)]
    if not entries:
        return None
    last = entries[-1][2]
    if until_ms - last >= SESSION_GAP_MS:
        return None
    first = entries[-1][1]
    for _minute, earlier_first, earlier_last in reversed(entries[:-1]):
        if first - earlier_last >= SESSION_GAP_MS:
            break
        first = earlier_first
    return last - first
