"""Which partitions of a table this worker owns as *active*.

Cluster-wide answers sum per-worker parts, and a standby replica holds a copy
of someone else's partition: counting it would count that partition twice.
So every part is computed over the active partitions only, as Faust's
partition assignor gave them out at the last rebalance.
"""

from __future__ import annotations

from faust.types import CollectionT

from app.main import app

__all__ = ["active_partitions"]


def active_partitions(table: CollectionT) -> list[int]:
    """Partitions of ``table`` this worker owns as active (standby copies excluded)."""
    topic = table.changelog_topic.get_topic_name()
    return sorted(tp.partition for tp in app.assignor.assigned_actives() if tp.topic == topic)
