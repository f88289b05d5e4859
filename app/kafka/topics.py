"""Topic catalogue: every topic the App reads or writes, declared once.

Input topics are read as raw bytes and decoded by the agents themselves, so a
malformed record reaches our code (and the dead-letter topic) instead of
failing inside Faust's deserializer where it would be acknowledged and lost.
Output values are encoded with :func:`app.kafka.codec.encode_json`, the one JSON
writer, so their shape is exactly DESIGN.md's. Agents that await their outputs
once per batch collect them in :func:`output_batches`.
"""

from __future__ import annotations

from app.faust_patches.record_batches import OutputBatches
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
    "output_batches",
    "payments_topic",
    "raw_topic",
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


def output_batches() -> OutputBatches:
    """Outputs collected for one input batch and handed to the producer in whole record batches.

    For agents that wait for their outputs once per input batch (the order
    pipeline, fraud): some 25 µs less per record than ``topic.send``, and the
    batches are in the producer's send ledger, so a commit waits for them
    (:mod:`app.faust_patches.record_batches`). Await :meth:`OutputBatches.submit`'s
    futures before the state they cover is stored.
    """
    return OutputBatches(app.producer)
