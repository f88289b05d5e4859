"""Topic catalogue: every topic the App reads or writes, declared once.

Input topics are read as raw bytes and decoded by the agents themselves, so a
malformed record reaches our code (and the dead-letter topic) instead of
failing inside Faust's deserializer where it would be acknowledged and lost.
Output values are encoded with :func:`app.kafka.codec.encode_json`, the one JSON
writer, so their shape is exactly DESIGN.md's. Agents that await their outputs
send them with :func:`send_now`.
"""

from __future__ import annotations

from typing import Any

from faust.types import TopicT

from app.kafka import topic_names
from app.main import app, settings

__all__ = [
    "alerts_topic",
    "clickstream_topic",
    "customer_orders_topic",
    "dead_letters_topic",
    "order_commands_topic",
    "order_pipeline_topic",
    "order_status_topic",
    "orders_topic",
    "payments_topic",
    "raw_topic",
    "send_now",
]


def raw_topic(*names: str, internal: bool = False, retention_days: float | None = None):  # type: ignore[no-untyped-def]
    return app.topic(
        *names,
        key_type=None,
        value_type=None,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.partitions,
        internal=internal,
        retention=None if retention_days is None else retention_days * 86400.0,
    )


#: Commands for the order pipeline (fraud holds, pending expiry), keyed by order_id.
ORDER_COMMANDS = topic_names.order_commands(settings.app_id)

#: One subscription for the three co-partitioned order topics and the commands: a
#: single agent sees one order's events in one place, whatever topic they came from.
order_pipeline_topic = raw_topic(*topic_names.ORDER_PIPELINE_TOPICS, ORDER_COMMANDS)
order_commands_topic = raw_topic(ORDER_COMMANDS)
orders_topic = raw_topic(topic_names.ORDERS)
payments_topic = raw_topic(topic_names.PAYMENTS)
clickstream_topic = raw_topic(topic_names.CLICKSTREAM)

order_status_topic = raw_topic(topic_names.ORDER_STATUS)
alerts_topic = raw_topic(topic_names.ALERTS)
dead_letters_topic = raw_topic(topic_names.DEAD_LETTERS)

#: Created orders re-keyed by ``customer_id`` so one worker owns each customer.
customer_orders_topic = raw_topic(topic_names.customer_orders(settings.app_id), internal=True)


async def send_now(topic: TopicT, key: str | bytes, value: bytes) -> Any:
    """Hand one record straight to the producer; returns the future of its acknowledgement.

    ``topic.send`` costs some 25 µs more per record (a ``FutureMessage``, two
    sensor calls, a done-callback), which the order pipeline pays three times
    per created order. This skips them and keeps what matters: the send is in
    the producer's ledger (:mod:`app.faust_patches.producer_flush`), so the
    next commit waits for it and refuses to pass a failure; the caller awaits
    the future before the state it covers is stored, and a refusal raises
    there (the worker then stops uncommitted, :mod:`app.kafka.fatal`).
    """
    key_bytes = key.encode() if isinstance(key, str) else key
    return await app.producer.send(
        topic.get_topic_name(), key_bytes, value, partition=None, timestamp=None, headers=None
    )
