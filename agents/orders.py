"""The order lifecycle: ``orders``, ``payments``, ``shipments`` and commands in one agent.

The three topics are keyed by ``order_id`` and co-partitioned, so one agent
subscribed to all of them sees every event of an order on the worker that owns
the order's state. Commands from other stages (fraud holds, pending expiry)
arrive on a co-partitioned internal topic and are applied here too, so each
order has exactly one writer.

Records come in batches, a fetch at a time (:mod:`app.faust_patches.batch_delivery`).
Per record: decode, validate, apply the pure state machine
(:mod:`domain.order_lifecycle`) to the order's newest state, add what it decided to the
batch's outputs (:mod:`agents.order_outputs`) and hold the new state in memory
(:func:`tables.orders.hold_order`: the HTTP lookups and ``wait_for`` see it at once).
Per batch: hand the outputs to the producer in whole record batches
(:func:`app.kafka.topics.output_batches`); the batch's completion waits once for the
broker's acknowledgement of all of them, then writes each changed order once to the
table, one write per partition (:func:`tables.event_scope.write_rows`). So the rule
"outputs before state" holds for every record at the cost of one produce round trip per
batch instead of one per record. On a worker the batches are pipelined
(:mod:`app.faust_patches.batch_delivery`): the next batch is decided, on the held states,
while the previous ones wait for their acknowledgements, and the completions run one at a
time in the batches' order; a batch's offsets are committed after its completion (the
route acks then), and the commit waits for the changelog writes (:mod:`app.faust_patches`).

Bad input never stops the stream: undecodable or invalid records, and records
the domain refuses, go to ``dead-letters`` with the reason (collected per batch and
awaited in its completion with the outputs, not one round trip per letter). Anything else (the
broker refusing a send, a table write failing) is not the record's fault and
propagates: the worker then stops without committing (:mod:`app.kafka.fatal`),
and the batch is delivered again after the restart instead of being lost.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Final

from faust.types import EventT

from agents.order_outputs import await_acknowledged, publish_decision
from app.faust_patches.batch_delivery import Completion, deliver_in_batches
from app.kafka.codec import UndecodableValue, decode_value
from app.kafka.dead_letters import DeadLetter, letter_for, send_dead_letters
from app.kafka.topics import ORDER_COMMANDS, order_pipeline_topic, output_batches
from app.main import app, settings
from app.monitoring.metrics import record_event_processed
from app.schemas.writer_schemas import (
    SchemaViolation,
    UnknownSchemaId,
    framed_schema_ids,
    shared_writer_schemas,
)
from domain.order_commands import ExpirePending, HoldOrder, InvalidCommand, command_from_wire
from domain.order_events import InvalidEvent, OrderEvent, order_event_from_wire
from domain.order_lifecycle import (
    Decision,
    OrderLifecycleError,
    apply_event,
    apply_hold,
    expire_pending,
)
from domain.order_state import CorruptState, OrderState
from tables.event_scope import write_rows
from tables.order_watch import notify
from tables.orders import current_order, hold_order, orders_table, release_held

__all__ = [
    "BATCH_MAX",
    "BATCH_WITHIN_SECONDS",
    "OrderBatch",
    "handle_order_batch",
    "order_lifecycle",
    "order_route",
    "start_order_batch",
]

logger = logging.getLogger(__name__)

#: How long an early event may wait for its prerequisite before it is dead-lettered.
PENDING_MAX_WAIT = timedelta(hours=settings.pending_max_wait_hours)
#: Most records per batch, and the longest the first record waits for its batch to fill.
#: Small batches keep a crash's redelivery short; one round trip per batch is the cost.
BATCH_MAX: Final = 500
BATCH_WITHIN_SECONDS: Final = 0.01


def _decode_event(topic: str, value: dict[str, Any], key: bytes | None) -> OrderEvent:
    order_event = order_event_from_wire(topic, value)
    if key is None:  # a keyless record lands on any partition, away from the order's state
        raise InvalidEvent(f"no key: the record must be keyed by order_id {order_event.order_id!r}")
    if key.decode("utf-8", "replace") != order_event.order_id:
        raise InvalidEvent(
            f"key {key[:64]!r} differs from order_id {order_event.order_id!r}: "
            "the event is on the wrong partition"
        )
    return order_event


def _decide_command(value: dict[str, Any]) -> tuple[str, OrderState | None, Decision]:
    command = command_from_wire(value)
    previous = current_order(command.order_id)
    if isinstance(command, HoldOrder):
        decision = apply_hold(
            previous, command.order_id, command.reason, command.caused_by, command.occurred_at
        )
    elif isinstance(command, ExpirePending):
        if previous is None:
            return (
                command.order_id,
                previous,
                Decision(state=OrderState(order_id=command.order_id), duplicate=True),
            )
        decision = expire_pending(previous, command.now, PENDING_MAX_WAIT)
    return command.order_id, previous, decision


class OrderBatch:
    """One batch of order records: outputs collected as they are decided, states held until acked."""

    def __init__(self) -> None:
        self.outputs = output_batches()
        #: order_id -> the last state this batch decided, held until the batch writes it, and
        #: the record that decided it (the order's partition is its record's).
        self.held: dict[str, tuple[OrderState, EventT[bytes]]] = {}
        self.topics: Counter[str] = Counter()
        #: Bad input and refused events: sent and awaited with the outputs, once per batch.
        self.letters: list[DeadLetter] = []
        self._sends: list[Any] = []

    async def take(self, event: EventT[bytes]) -> None:
        """Process one record; bad input is dead-lettered, never raised."""
        message = event.message
        self.topics[message.topic] += 1
        try:
            decoded = decode_value(message.value)
        except UndecodableValue as exc:
            self.letters.append(letter_for(message, exc, stage="decode"))
            return
        try:
            shared_writer_schemas().check(decoded)  # ids prepared for the whole batch
        except UnknownSchemaId as exc:
            self.letters.append(letter_for(message, exc, stage="decode"))
            return
        except SchemaViolation as exc:
            self.letters.append(letter_for(message, exc, stage="validate"))
            return
        value = decoded.value
        event_id = value.get("event_id") if isinstance(value.get("event_id"), str) else None
        try:
            if message.topic == ORDER_COMMANDS:
                order_id, previous, decision = _decide_command(value)
            else:
                order_event = _decode_event(message.topic, value, message.key)
                order_id = order_event.order_id
                previous = current_order(order_id, message.partition)
                decision = apply_event(previous, order_event)
        except (InvalidEvent, InvalidCommand) as exc:
            self.letters.append(letter_for(message, exc, stage="validate"))
            return
        except (OrderLifecycleError, CorruptState) as exc:
            self.letters.append(letter_for(message, exc, stage="apply"))
            return
        await self._record(order_id, previous, decision, event, event_id)

    async def _record(
        self,
        order_id: str,
        previous: OrderState | None,
        decision: Decision,
        source: EventT[bytes],
        input_event_id: str | None,
    ) -> None:
        if decision.duplicate:
            if previous is not None:
                # Re-assert the stored state: after a crash the local store may hold a
                # write whose changelog record was lost; writing it again heals the
                # changelog, so a worker recovering from it later sees the same state.
                self._hold(previous, source)
            return
        await publish_decision(
            previous, decision, source, input_event_id, self.outputs, self.letters
        )
        self._hold(decision.state, source)
        notify(order_id)

    def _hold(self, state: OrderState, source: EventT[bytes]) -> None:
        hold_order(state)
        self.held[state.order_id] = (state, source)

    @property
    def states(self) -> list[OrderState]:
        """The states this batch holds."""
        return [state for state, _ in self.held.values()]

    def submit(self) -> Completion:
        """Hand the outputs to the producer, without waiting: the rest is :meth:`complete`."""
        self._sends = self.outputs.submit()
        return self.complete

    async def complete(self) -> None:
        """Send the letters, wait for every output's acknowledgement, write each changed order once.

        The states written are this batch's own (a later batch may hold newer
        ones, not yet acknowledged); they are released afterwards, or dropped if
        a send was refused (that stops the worker).
        """
        try:
            await send_dead_letters(self.letters)
            await await_acknowledged(self._sends)
            by_partition: dict[int, tuple[EventT[bytes], list[tuple[str, Any]]]] = {}
            for order_id, (state, source) in self.held.items():
                _, rows = by_partition.setdefault(source.message.partition, (source, []))
                rows.append((order_id, state.to_dict()))
            for source, rows in by_partition.values():
                write_rows(orders_table, source, rows)
        finally:
            release_held(self.states)
        for topic, count in self.topics.items():
            record_event_processed(topic, count)


async def start_order_batch(events: Sequence[EventT[bytes]]) -> Completion:
    """Decide a batch of order records, in order, and hand over its outputs; its completion.

    Offsets are committed after the completion returned (the route acks then).
    """
    # waits while the registry is down
    await shared_writer_schemas().prepare(framed_schema_ids(e.message.value for e in events))
    batch = OrderBatch()
    try:
        for event in events:
            await batch.take(event)
        return batch.submit()
    except BaseException:
        release_held(batch.states)
        raise


async def handle_order_batch(events: Sequence[EventT[bytes]]) -> None:
    """Decide a batch of order records and complete it (the agent body's unpipelined path)."""
    complete = await start_order_batch(events)
    await complete()


@app.agent(order_pipeline_topic, name="order-lifecycle", concurrency=1)
async def order_lifecycle(stream: Any) -> None:
    """One order's events meet here, whatever topic they came from, a batch at a time."""
    async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_SECONDS):
        await handle_order_batch(events)


#: On a worker the records skip Faust's per-record path: they reach
#: :func:`start_order_batch` a fetch at a time, and once the worker keeps up, before the other
#: routes' records of the fetch (urgent: the status records go out before a batch of clicks is
#: applied); the batches are pipelined: the next is decided while the previous ones wait for
#: their outputs' acknowledgements (:mod:`app.faust_patches.batch_delivery`).
order_route = deliver_in_batches(
    app, order_lifecycle, start_order_batch, pipelined=True, urgent=True
)
