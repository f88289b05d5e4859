"""Which partitions of a table this worker owns as *active*.

Cluster-wide answers sum per-worker parts, and a standby replica holds a copy
of someone else's partition: counting it would count that partition twice.
So every part is computed over the active partitions only, as Faust's
partition assignor gave them out at the last rebalance.

:func:`key_partition` says which partition of a table holds a key: the one
the web router forwards a lookup of the key to, and the one a record keyed
by it lands on in a co-partitioned input topic (same key bytes, same
partitioner), so a read can find the key's rows not written yet.
"""

from __future__ import annotations

from typing import Any

from faust.types import CollectionT

from app.main import app

__all__ = ["active_partitions", "key_partition"]


def active_partitions(table: CollectionT) -> list[int]:
    """Partitions of ``table`` this worker owns as active (standby copies excluded)."""
    topic = table.changelog_topic.get_topic_name()
    return sorted(tp.partition for tp in app.assignor.assigned_actives() if tp.topic == topic)


def key_partition(table: CollectionT, key: Any) -> int:
    """The partition of ``table`` that holds ``key``, as Faust's router computes it."""
    topic = table.changelog_topic
    serialized_key = topic.prepare_key(key, None)[0]
    return int(app.producer.key_partition(topic.get_topic_name(), serialized_key).partition)
