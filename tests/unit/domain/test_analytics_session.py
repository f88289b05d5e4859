"""Sessions: 30-minute inactivity windows as of any whole minute, funnel steps, bounds."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.analytics_query import query_range
from domain.analytics_session import (
    MAX_SEEN,
    SessionState,
    active_duration_ms,
    fold_click,
    fold_purchase,
    reached_steps,
)
from domain.analytics_windows import epoch_minute
from tests.unit.domain.analytics_support import at, click


def session(*moments: tuple[float, float], kind: str = "page_view") -> SessionState:
    state = None
    for n, (minutes, seconds) in enumerate(moments):
        state = fold_click(state, click(f"e{n}", kind, "s", at(minutes, seconds)), n, None)
    assert state is not None
    return state


def m(minutes: float) -> int:
    return epoch_minute(at(minutes))


def test_an_active_session_is_measured_from_its_first_to_its_last_click() -> None:
    state = session((0, 10), (5, 0), (20, 30))
    assert active_duration_ms(state, m(21), None) == (20 * 60 + 20) * 1000
    # still active when the last click is less than 30 minutes before until
    assert active_duration_ms(state, m(50), None) == (20 * 60 + 20) * 1000
    assert active_duration_ms(state, m(51), None) is None


def test_a_gap_of_30_minutes_starts_a_new_session() -> None:
    state = session((0, 0), (30, 0), (40, 0))
    assert active_duration_ms(state, m(41), None) == 10 * 60_000
    merged = session((0, 0), (29, 59.999), (40, 0))
    assert active_duration_ms(merged, m(41), None) == 40 * 60_000


def test_the_answer_as_of_an_earlier_until_ignores_later_clicks() -> None:
    state = session((0, 0), (10, 0), (100, 0))
    assert active_duration_ms(state, m(11), None) == 10 * 60_000
    assert active_duration_ms(state, m(10), None) == 0


def test_out_of_order_clicks_give_the_same_windows() -> None:
    forward = session((0, 0), (20, 0), (45, 0))
    backward = session((45, 0), (0, 0), (20, 0))
    for until in range(1, 80):
        assert active_duration_ms(forward, m(until), None) == active_duration_ms(
            backward, m(until), None
        )


def test_funnel_steps_are_reached_within_the_range_only() -> None:
    state = fold_click(None, click("e1", "product_view", "s", at(0), "a"), 0, None)
    state = fold_click(state, click("e2", "add_to_cart", "s", at(5), "a"), 1, None)
    state = fold_purchase(state, "o1", 0, m(9), None, names_session=True)
    assert list(reached_steps(state, query_range(10, m(10)), None)) == [
        "product_view",
        "add_to_cart",
        "purchase",
    ]
    assert list(reached_steps(state, query_range(5, m(10)), None)) == ["add_to_cart", "purchase"]
    assert list(reached_steps(state, query_range(10, m(10)), m(6))) == ["purchase"]


def test_an_order_without_session_reaches_no_step() -> None:
    state = fold_purchase(None, "o1", 0, m(0), None, names_session=False)
    assert list(reached_steps(state, query_range(10, m(10)), None)) == []
    assert state.latest_minute == m(0)


def test_the_row_round_trips_and_its_memory_of_ids_is_bounded() -> None:
    state = None
    for n in range(MAX_SEEN + 10):
        state = fold_click(state, click(f"e{n}", "search", "s", at(n / 100)), n, None)
    assert state is not None
    assert (
        len(state.seen) == MAX_SEEN and "e0" not in state.seen and f"e{MAX_SEEN + 9}" in state.seen
    )
    assert SessionState.from_dict(state.to_dict()) == state


def test_pruning_removes_what_is_older_than_the_horizon_and_keeps_the_row_when_nothing_is() -> None:
    state = fold_purchase(
        session((0, 5), (3, 0), kind="product_view"), "o1", 7, m(4), None, names_session=True
    )
    assert state.pruned(m(0)) is state  # nothing older: the same row, not a copy
    kept = state.pruned(m(3))
    assert [entry[0] for entry in kept.activity] == [m(3)]
    assert kept.steps == {"product_view": (m(3),), "purchase": (m(4),)}
    assert list(kept.seen) == ["e1"] and list(kept.orders) == ["o1"]
    assert kept.pruned(m(3)) is kept
    # As stored, in JSON (in memory the row's arrays are the state's tuples).
    assert json.loads(json.dumps(state.pruned(m(5)).to_dict())) == {
        "act": [],
        "steps": {},
        "seen": {},
        "orders": {},
        "idx": None,
    }


_FOLDS = st.lists(
    st.tuples(
        st.booleans(),  # a click, else an order
        st.integers(0, 40),  # its minute after T0
        st.none() | st.integers(0, 40),  # the horizon it is folded with (minutes after T0)
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(folds=_FOLDS)
def test_a_state_kept_in_memory_folds_as_the_same_state_read_back_from_its_row(
    folds: list[tuple[bool, int, int | None]],
) -> None:
    """The in-memory ``floor`` only spares work: pruning decides as from the stored row."""
    kept: SessionState | None = None
    stored: SessionState | None = None
    for n, (is_click, minute, horizon_after) in enumerate(folds):
        horizon = None if horizon_after is None else m(horizon_after)
        read_back = None if stored is None else SessionState.from_dict(stored.to_dict())
        if is_click:
            event = click(f"e{n}", "product_view", "s", at(minute, n % 60))
            kept = fold_click(kept, event, n, horizon)
            stored = fold_click(read_back, event, n, horizon)
        else:
            occurred = m(minute)
            kept = fold_purchase(kept, f"o{n}", n, occurred, horizon, names_session=True)
            stored = fold_purchase(read_back, f"o{n}", n, occurred, horizon, names_session=True)
        assert kept.to_dict() == stored.to_dict()
