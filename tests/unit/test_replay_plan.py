"""The rules that keep ``shopstream replay`` safe, without a broker."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.replay.generation import MARKER_NAME, judge_datadir, sync_datadir
from app.replay.plan import (
    GroupMember,
    ReplayError,
    measure_progress,
    plan_replay,
    refusal,
    topics_to_clear,
)

APP = "shop"
CHANGELOGS = ("shop-orders-changelog", "shop-analytics-changelog")


def test_refusal_names_every_live_member_in_one_line() -> None:
    members = [GroupMember("m-2", "faust-0.15.3", "/10.0.0.2"), GroupMember("m-1", "faust", "/h")]
    line = refusal("shop", members)
    assert line is not None and "\n" not in line
    assert "2 live member(s)" in line and "faust@h (m-1)" in line and "10.0.0.2" in line
    assert refusal("shop", []) is None


def test_only_this_apps_internal_topics_and_changelogs_are_cleared() -> None:
    existing = {
        "orders",
        "order-status",
        "dead-letters",
        "shop-order-commands",
        "shop-customer-orders",
        "shop-webhook-retry-1",
        "shop-webhook-retry-x",
        "shop-orders-changelog",
        "shop-replay-generation",
        "shop-__assignor-__leader",
        "shop-test-1-order-commands",  # another app whose id starts like ours
        "shop-test-1-orders-changelog",
    }
    assert topics_to_clear(APP, existing, CHANGELOGS) == (
        "shop-customer-orders",
        "shop-order-commands",
        "shop-orders-changelog",
        "shop-webhook-retry-1",
    )


@pytest.mark.parametrize("name", ["orders", "dead-letters", "shop-replay-generation", "other-x"])
def test_a_contract_or_foreign_topic_is_never_cleared(name: str) -> None:
    with pytest.raises(ReplayError, match="refusing to clear"):
        topics_to_clear(APP, {name}, [name])


def test_plan_restarts_inputs_keeps_other_offsets_and_bumps_the_generation() -> None:
    plan = plan_replay(
        group=APP,
        since=datetime(2025, 3, 1, tzinfo=UTC),
        previous_generation=2,
        start_offsets={("orders", 0): 5, ("orders", 1): 9, ("clickstream", 0): 0},
        end_offsets={("orders", 0): 10, ("orders", 1): 7, ("clickstream", 0): 4},
        committed={
            ("orders", 0): 10,
            ("order-status", 0): 33,
            ("shop-order-commands", 0): 8,
            ("order-status", 1): -1,
        },
        clear=("shop-order-commands", "shop-orders-changelog"),
        changelogs=CHANGELOGS,
    )
    assert plan.generation == 3
    assert plan.start_offsets[("orders", 1)] == 7  # never past the end
    assert plan.records_to_replay == 5 + 0 + 4
    assert plan.offsets_to_commit() == {
        ("order-status", 0): 33,  # the webhook goes on where it was
        ("orders", 0): 5,
        ("orders", 1): 7,
        ("clickstream", 0): 0,
    }
    assert plan.changelogs == ("shop-orders-changelog",)
    assert plan.agent_topics == ("shop-order-commands",)
    text = "\n".join(plan.describe())
    assert "from 2025-03-01T00:00:00.000Z" in text and "orders: restart at 0:5..10, 1:7..7" in text
    assert "untouched: input topics, order-status, alerts, dead-letters" in text


def test_first_replay_is_generation_one() -> None:
    plan = plan_replay(
        group=APP,
        since=None,
        previous_generation=None,
        start_offsets={},
        end_offsets={},
        committed={},
        clear=(),
        changelogs=(),
    )
    assert plan.generation == 1 and plan.records_to_replay == 0


def test_progress_counts_inputs_up_to_their_targets_and_internal_lag() -> None:
    starts = {("orders", 0): 10, ("orders", 1): 0}
    targets = {("orders", 0): 20, ("orders", 1): 5}
    progress = measure_progress(
        start_offsets=starts,
        target_offsets=targets,
        committed={("orders", 0): 25, ("shop-order-commands", 0): 3},
        internal_ends={("shop-order-commands", 0): 4, ("shop-customer-orders", 0): 2},
        internal_starts={("shop-customer-orders", 0): 0},
    )
    assert (progress.done, progress.total, progress.internal_lag) == (10, 15, 3)
    assert not progress.caught_up
    done = measure_progress(
        start_offsets=starts,
        target_offsets=targets,
        committed={("orders", 0): 20, ("orders", 1): 5},
        internal_ends={},
        internal_starts={},
    )
    assert done.caught_up and "15/15" in done.line()


@pytest.mark.parametrize(
    ("marker", "generation", "has_stores", "wipe", "left"),
    [
        (None, None, True, False, None),  # never replayed
        ("3", 3, True, False, "3"),  # current
        (None, 3, True, True, "3"),  # stores of unknown generation
        ("2", 3, True, True, "3"),  # stores older than the last replay
        ("3", None, True, True, None),  # generation topic lost: be safe
        ("2", 3, False, False, "3"),  # nothing to wipe
    ],
)
def test_datadir_verdict(
    marker: str | None, generation: int | None, has_stores: bool, wipe: bool, left: str | None
) -> None:
    verdict = judge_datadir(marker, generation, has_stores=has_stores)
    assert (verdict.wipe, verdict.marker) == (wipe, left)


def test_sync_wipes_stale_table_stores_and_writes_the_marker(tmp_path: Path) -> None:
    store = tmp_path / "v1" / "tables" / "orders-0.db"
    store.mkdir(parents=True)
    (tmp_path / MARKER_NAME).write_text("1\n")
    assert sync_datadir(tmp_path, 2).wipe
    assert not store.exists() and (tmp_path / MARKER_NAME).read_text() == "2\n"
    store.mkdir(parents=True)
    assert not sync_datadir(tmp_path, 2).wipe
    assert store.exists()


def test_the_preflight_knows_every_changelog_of_the_app() -> None:
    from app.kafka import topic_names
    from app.main import app

    app.discover()
    names = {table.changelog_topic.get_topic_name() for table in app.tables.values()}
    assert names == set(topic_names.changelog_topics(app.conf.id))
