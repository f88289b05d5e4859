"""Topics of the analytics engine: session purchases, and the one input subscription.

Created orders reach analytics through ``{app_id}-session-purchases``, written
by the order pipeline once per created order and keyed by ``session_id``,
the key of ``clickstream``, with the same partition count: a session's clicks
and purchases land on the same partition number, and one agent subscribed to
both topics (:data:`analytics_input_topic`) sees them on one worker.
"""

from __future__ import annotations

from app.kafka import topic_names
from app.kafka.codec import encode_json
from app.kafka.topics import raw_topic
from app.main import settings
from domain.order_events import OrderEvent
from domain.session_purchase import purchase_from_order

__all__ = [
    "SESSION_PURCHASES",
    "analytics_input_topic",
    "session_purchase_record",
    "session_purchases_topic",
]

SESSION_PURCHASES = topic_names.session_purchases(settings.app_id)

session_purchases_topic = raw_topic(SESSION_PURCHASES, internal=True)

#: Internal, so Faust creates ``session-purchases`` when the agent subscribes
#: (``clickstream`` exists already and is left as it is).
analytics_input_topic = raw_topic(topic_names.CLICKSTREAM, SESSION_PURCHASES, internal=True)


def session_purchase_record(created: OrderEvent, source_partition: int) -> tuple[bytes, bytes]:
    """Key and value announcing a newly created order read from ``orders[source_partition]``.

    The order pipeline adds it to its outputs for ``session-purchases``.
    """
    purchase = purchase_from_order(created, source_partition)
    return purchase.key.encode(), encode_json(purchase.to_wire())
