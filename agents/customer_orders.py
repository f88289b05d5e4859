"""Created orders by customer: the one agent of ``customer-orders``, a batch at a time.

Input: the internal ``customer-orders`` topic (key ``customer_id``; value the
``order_created`` event in its wire form), written by the order pipeline once
per created order. Two concerns read it, and one agent serves both so each
record is fetched, decoded and validated once: per record it folds the order
into the customer's summary (:mod:`agents.customers`, the ``customers``
table) and judges it against the customer's sliding hour (:mod:`agents.fraud`,
the ``fraud-velocity`` table, alerts and holds). The rules are in
:mod:`domain.customer_summary` and :mod:`domain.fraud`; this module only
decodes, dispatches and dead-letters.

Records come in batches, a fetch at a time (:mod:`app.faust_patches.batch_delivery`).
Rows are changed in memory, in a commit cache per table (:data:`tables.customers.customers_cache`,
:data:`tables.fraud.fraud_cache`), and written once per key just before
Faust commits (:mod:`tables.commit_cache`), earlier when a cache is full;
rows of revoked partitions are dropped (their records are redelivered).
The fraud windows enter their cache only after the batch's alerts and holds
are acknowledged (:class:`agents.fraud.VelocityBatch`). Every record's rows
are in the caches before the batch returns, and so before the record is
acked and before any offset covering it can be committed.

Bad input never stops the stream (the topic is internal, but a record we
cannot read must not stop the worker for good): an undecodable value, an
invalid event, a key that is not the customer, or a stored row that cannot
be read goes to ``dead-letters`` with the reason. A refused send is not the
record's fault and raises: the worker stops without committing
(:mod:`app.kafka.fatal`) and the batch is delivered again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from faust.types import EventT

from agents.customers import count_created_order
from agents.fraud import VelocityBatch
from app.faust_patches.batch_delivery import deliver_in_batches
from app.kafka.codec import UndecodableValue, decode_json_object
from app.kafka.dead_letters import DeadLetter, letter_for, send_dead_letters
from app.kafka.topics import customer_orders_topic
from app.main import app
from domain.customer_summary import CorruptSummary, OrderPlaced
from domain.fraud import CorruptVelocity, InvalidFraudInput
from domain.order_events import EventType, InvalidEvent, OrderEvent, order_event_from_wire
from tables.commit_cache import install_commit_caches
from tables.customers import customers_cache
from tables.fraud import fraud_cache

__all__ = [
    "BATCH_MAX",
    "BATCH_WITHIN_SECONDS",
    "CustomerOrdersBatch",
    "customer_orders",
    "customer_orders_route",
    "handle_customer_orders_batch",
    "write_cached_rows",
]

#: Most records per batch, and the longest the first record waits for its batch to fill.
BATCH_MAX: Final = 1000
BATCH_WITHIN_SECONDS: Final = 0.01

install_commit_caches(app, customers_cache, fraud_cache)


def _created_order(message: Any) -> tuple[OrderEvent, OrderPlaced]:
    """The record's ``order_created``; raises UndecodableValue, InvalidEvent or ValueError."""
    created = order_event_from_wire("orders", decode_json_object(message.value))
    if created.type is not EventType.ORDER_CREATED:
        raise InvalidEvent(f"customer-orders carries order_created, not {created.type}")
    placed = OrderPlaced.from_event(created)  # ValueError without customer, currency, total
    key = message.key
    if key is None or key.decode("utf-8", "replace") != placed.customer_id:
        raise InvalidEvent(
            f"key {None if key is None else key[:64]!r} differs from customer_id "
            f"{placed.customer_id!r}: the record is on the wrong partition"
        )
    return created, placed


class CustomerOrdersBatch:
    """One batch: summaries changed in their cache, fraud flags sent, letters collected."""

    def __init__(self) -> None:
        self.fraud = VelocityBatch()
        self.letters: list[DeadLetter] = []

    async def take(self, event: EventT[bytes]) -> None:
        """Apply one record; bad input becomes a dead letter, never an exception."""
        message = event.message
        try:
            created, placed = _created_order(message)
        except UndecodableValue as exc:
            self.letters.append(letter_for(message, exc, stage="decode"))
            return
        except ValueError as exc:  # InvalidEvent, or an incomplete order_created
            self.letters.append(letter_for(message, exc, stage="validate"))
            return
        try:
            count_created_order(customers_cache.rows(event), placed)
        except CorruptSummary as exc:
            self.letters.append(letter_for(message, exc, stage="apply"))
        try:
            await self.fraud.judge(event, created)
        except InvalidFraudInput as exc:
            self.letters.append(letter_for(message, exc, stage="validate"))
        except CorruptVelocity as exc:
            self.letters.append(letter_for(message, exc, stage="apply"))

    async def finish(self) -> None:
        """Outputs acknowledged, fraud windows cached, letters sent; write early if full."""
        await self.fraud.finish()
        await send_dead_letters(self.letters)
        customers_cache.write_if_full()
        fraud_cache.write_if_full()


async def handle_customer_orders_batch(events: Sequence[EventT[bytes]]) -> None:
    """Process a batch of records, in order (they are acked after this returns)."""
    batch = CustomerOrdersBatch()
    for event in events:
        await batch.take(event)
    await batch.finish()


@app.agent(customer_orders_topic, name="customer-orders", concurrency=1)
async def customer_orders(stream: Any) -> None:
    """Created orders, keyed by customer: summaries and fraud velocity, a batch at a time."""
    async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_SECONDS):
        await handle_customer_orders_batch(events)


async def write_cached_rows() -> None:
    """Write the summaries and fraud windows held for the next commit now (caught up: idle)."""
    await customers_cache.write_all_in_parts()
    await fraud_cache.write_all_in_parts()


#: On a worker the records skip Faust's per-record path: they reach
#: :func:`handle_customer_orders_batch` a fetch at a time (:mod:`app.faust_patches.batch_delivery`).
customer_orders_route = deliver_in_batches(
    app, customer_orders, handle_customer_orders_batch, when_caught_up=write_cached_rows
)
