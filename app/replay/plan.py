"""What ``shopstream replay`` will do, decided without Kafka: plans, guards, progress.

Everything here is pure (plain values in, plain values out) so the rules that
keep a replay safe are unit-tested without a broker:

* the consumer group must have no live member (:func:`refusal`);
* only the app's own internal topics and table changelogs are cleared, never a
  contract topic (:func:`topics_to_clear` raises :class:`ReplayError` rather
  than return one);
* input topics restart at the chosen offsets, offsets on other topics the group
  reads (``order-status`` for the webhook) are kept (:func:`plan_replay`);
* the rebuild is done when the group has committed the input offsets that
  existed at reset time and has no lag left on the internal topics
  (:func:`measure_progress`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from app.kafka import topic_names
from domain.timefmt import format_time

__all__ = [
    "PROTECTED_TOPICS",
    "GroupMember",
    "Partition",
    "Progress",
    "ReplayError",
    "ReplayPlan",
    "measure_progress",
    "plan_replay",
    "refusal",
    "topics_to_clear",
]

#: (topic, partition).
Partition = tuple[str, int]

#: Topics a replay never deletes, truncates or re-creates: the contract's, and the generation log.
PROTECTED_TOPICS = frozenset(
    {
        *topic_names.INPUT_TOPICS,
        topic_names.ORDER_STATUS,
        topic_names.ALERTS,
        topic_names.DEAD_LETTERS,
    }
)


class ReplayError(RuntimeError):
    """A replay that must not run (or cannot go on); the message is one line."""


@dataclass(frozen=True, slots=True)
class GroupMember:
    """A live member of the consumer group, as the group coordinator describes it."""

    member_id: str
    client_id: str
    client_host: str

    def __str__(self) -> str:
        return f"{self.client_id}@{self.client_host.lstrip('/')} ({self.member_id})"


def refusal(group: str, members: Iterable[GroupMember]) -> str | None:
    """The one-line refusal when workers of ``group`` are alive, else None."""
    alive = sorted(members, key=str)
    if not alive:
        return None
    names = ", ".join(map(str, alive))
    return (
        f"refusing to replay: consumer group {group!r} has {len(alive)} live member(s): "
        f"{names}; stop every worker of the group first"
    )


def topics_to_clear(
    app_id: str, existing: Iterable[str], changelogs: Iterable[str]
) -> tuple[str, ...]:
    """The app's internal topics and table changelogs that exist on the broker, sorted.

    Names are matched exactly (another app id may share our prefix, such as
    ``shopstream`` and ``shopstream-test-1``), and every name must belong to
    this app and be outside :data:`PROTECTED_TOPICS`.
    """
    present = set(existing)
    wanted = {
        *topic_names.internal_topics(app_id),
        *(name for name in present if topic_names.is_webhook_retry(app_id, name)),
        *changelogs,
    }
    chosen = tuple(sorted(name for name in wanted if name in present))
    for name in chosen:
        if (
            name in PROTECTED_TOPICS
            or name == topic_names.replay_generation(app_id)
            or not name.startswith(f"{app_id}-")
        ):
            raise ReplayError(
                f"refusing to clear topic {name!r}: not an internal topic of {app_id}"
            )
    return chosen


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    """One replay, fully decided: what is cleared and where the group restarts."""

    group: str
    #: Replay input records produced at or after this time; None: from the beginning.
    since: datetime | None
    #: The replay generation this replay records (the previous one plus one).
    generation: int
    #: Where the group restarts on each input partition.
    start_offsets: Mapping[Partition, int]
    #: The input end offsets at reset time: the rebuild is caught up once past them.
    target_offsets: Mapping[Partition, int]
    #: Internal topics and changelogs, deleted and re-created empty with the same shape.
    topics_to_clear: tuple[str, ...]
    #: Of those, the table changelogs (the others are read by agents of the group).
    changelogs: tuple[str, ...] = ()
    #: Committed offsets on other topics (``order-status`` for the webhook), kept as they are.
    kept_offsets: Mapping[Partition, int] = field(default_factory=dict)

    @property
    def agent_topics(self) -> tuple[str, ...]:
        """Cleared topics the group consumes: their lag counts in the progress."""
        return tuple(t for t in self.topics_to_clear if t not in self.changelogs)

    @property
    def records_to_replay(self) -> int:
        return sum(self.target_offsets[tp] - start for tp, start in self.start_offsets.items())

    def offsets_to_commit(self) -> dict[Partition, int]:
        """What the group commits once it has been deleted: input starts plus kept offsets."""
        return {**self.kept_offsets, **self.start_offsets}

    def describe(self) -> list[str]:
        """Human lines for the confirmation prompt and ``--dry-run``."""
        since = "the beginning" if self.since is None else format_time(self.since)
        lines = [
            f"replay of consumer group {self.group!r} from {since} "
            f"(replay generation {self.generation})",
            f"  input records to replay: {self.records_to_replay}",
        ]
        for topic in topic_names.INPUT_TOPICS:
            parts = sorted(p for t, p in self.start_offsets if t == topic)
            ranges = ", ".join(
                f"{p}:{self.start_offsets[(topic, p)]}..{self.target_offsets[(topic, p)]}"
                for p in parts
            )
            lines.append(f"  {topic}: restart at {ranges or '(no partitions)'}")
        lines.append(f"  delete and re-create empty: {', '.join(self.topics_to_clear)}")
        if self.kept_offsets:
            kept = sorted({t for t, _ in self.kept_offsets})
            lines.append(f"  keep the group's offsets on: {', '.join(kept)}")
        lines.append(
            "  local table stores of every worker are wiped at its next start "
            "(replay generation marker)"
        )
        lines.append("  untouched: input topics, order-status, alerts, dead-letters")
        return lines


def plan_replay(
    *,
    group: str,
    since: datetime | None,
    previous_generation: int | None,
    start_offsets: Mapping[Partition, int],
    end_offsets: Mapping[Partition, int],
    committed: Mapping[Partition, int],
    clear: tuple[str, ...],
    changelogs: Iterable[str],
) -> ReplayPlan:
    """Decide a replay from what the broker said.

    ``start_offsets`` are the first offsets to replay per input partition (the
    log start, or the first record at or after ``since``; the end when there is
    none), ``committed`` the group's current offsets on every topic.
    """
    missing = set(start_offsets) ^ set(end_offsets)
    if missing:
        raise ReplayError(f"start and end offsets disagree on partitions {sorted(missing)}")
    starts = {tp: min(offset, end_offsets[tp]) for tp, offset in start_offsets.items()}
    inputs = {topic for topic, _ in starts}
    kept = {
        tp: offset
        for tp, offset in committed.items()
        if tp[0] not in inputs and tp[0] not in clear and offset >= 0
    }
    return ReplayPlan(
        group=group,
        since=since,
        generation=(previous_generation or 0) + 1,
        start_offsets=starts,
        target_offsets=dict(end_offsets),
        topics_to_clear=clear,
        changelogs=tuple(t for t in clear if t in set(changelogs)),
        kept_offsets=kept,
    )


@dataclass(frozen=True, slots=True)
class Progress:
    """How far the rebuild is: input records consumed, and what the internal topics lag."""

    done: int
    total: int
    internal_lag: int

    @property
    def caught_up(self) -> bool:
        return self.done >= self.total and self.internal_lag == 0

    def line(self) -> str:
        percent = 100.0 if self.total == 0 else 100.0 * self.done / self.total
        return (
            f"replayed {self.done}/{self.total} input records ({percent:.1f}%), "
            f"internal topics lag {self.internal_lag}"
        )


def measure_progress(
    *,
    start_offsets: Mapping[Partition, int],
    target_offsets: Mapping[Partition, int],
    committed: Mapping[Partition, int],
    internal_ends: Mapping[Partition, int],
    internal_starts: Mapping[Partition, int],
) -> Progress:
    """Compare the group's committed offsets with the targets of a replay.

    Input partitions count up to their target only (records produced after the
    reset are not part of the rebuild). Internal partitions count as lag from
    the committed offset, or from their start when the group has none yet.
    """
    done = 0
    for tp, start in start_offsets.items():
        target = target_offsets[tp]
        position = committed.get(tp, start)
        done += max(0, min(position, target) - start)
    total = sum(target_offsets[tp] - start for tp, start in start_offsets.items())
    lag = 0
    for tp, end in internal_ends.items():
        position = committed.get(tp, -1)
        if position < 0:
            position = internal_starts.get(tp, 0)
        lag += max(0, end - position)
    return Progress(done=done, total=total, internal_lag=lag)
