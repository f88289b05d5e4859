"""Faults a real producer fleet causes, injected into the valid stream (pure).

* **duplicates**: a recent valid record sent again byte for byte (same
  ``event_id``), as after a producer retry; a fraction of all records.
* **out of order**: a valid event held back until its own session's next
  event has gone out, so a payment arrives before its ``order_created`` and a
  delivery before its dispatch; a fraction of the valid events.
* **malformed**: poison records (undecodable bytes, invalid JSON, JSON that is
  not an object, a missing required field, money as a float, an unknown event
  type); a fraction of all records.

Faults only ever *add* or *delay* records: every valid event is still sent
exactly once as ``ok`` or ``out_of_order``, so the valid stream is the one the
generator made without faults. Fault decisions use their own rng, derived from
the seed, so switching faults on does not change the valid events themselves.
Malformed records that look like events get fresh ids (``e-{seed}-x{n}``, and a
fresh order or session id) so that a consumer wrongly accepting one cannot
corrupt a real order.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import orjson

from app.kafka.topic_names import CLICKSTREAM, INPUT_TOPICS, ORDERS, PAYMENTS, SHIPMENTS
from loadgen.events import MONEY_FIELDS, SimEvent
from loadgen.options import SimulationOptions

__all__ = ["MALFORMED_VARIANTS", "inject_faults", "make_malformed"]

#: The kinds of poison :func:`make_malformed` produces.
MALFORMED_VARIANTS = (
    "undecodable",
    "invalid_json",
    "not_an_object",
    "missing_field",
    "float_money",
    "unknown_type",
)
_UNKNOWN_TYPES = {
    ORDERS: ("order_merged", "order_updated_v2"),
    PAYMENTS: ("payment_chargeback", "payment_pending"),
    SHIPMENTS: ("shipment_lost", "shipment_returned"),
    CLICKSTREAM: ("wishlist_add", "video_play"),
}
#: Fields whose absence no reading of DESIGN.md could excuse.
_ALWAYS_REQUIRED = ("event_id", "type", "occurred_at")
_HISTORY = 512


def _fresh_identity(obj: dict[str, Any], topic: str, seed: int, n: int) -> str:
    """Give a copied event new ids and return its new key."""
    obj["event_id"] = f"e-{seed}-x{n}"
    if topic == CLICKSTREAM:
        obj["session_id"] = key = f"s-{seed}-x{n}"
    else:
        obj["order_id"] = key = f"o-{seed}-x{n}"
    return key


def _pick(rng: random.Random, recent: Sequence[SimEvent]) -> SimEvent | None:
    return recent[rng.randrange(len(recent))] if recent else None


def make_malformed(
    rng: random.Random,
    seed: int,
    n: int,
    recent: Sequence[SimEvent],
    recent_money: Sequence[SimEvent] = (),
) -> SimEvent:
    """The ``n``-th poison record, shaped after a recent valid event when there is one.

    Float money is copied from ``recent_money`` (orders and payments): most
    traffic is clickstream, which has no money to spoil.
    """
    variant = rng.choice(MALFORMED_VARIANTS)
    template = _pick(rng, recent_money if variant == "float_money" and recent_money else recent)
    if template is None:
        topic = rng.choice(INPUT_TOPICS)
        garbage = b"\xff\xfe" + rng.randbytes(rng.randint(4, 40))
        return SimEvent(topic, f"x-{seed}-{n}", garbage, "malformed")
    topic, value = template.topic, template.value
    if variant == "undecodable":
        return SimEvent(topic, template.key, b"\xff" + value[1:], "malformed")
    if variant == "invalid_json":  # a torn write: every proper prefix of an object is invalid
        return SimEvent(topic, template.key, value[: rng.randint(1, len(value) - 1)], "malformed")
    obj: dict[str, Any] = orjson.loads(value)
    key = _fresh_identity(obj, topic, seed, n)
    if variant == "not_an_object":
        return SimEvent(topic, key, orjson.dumps(list(obj.values())), "malformed")
    money = sorted(MONEY_FIELDS & obj.keys())
    if variant == "float_money" and money:
        field = rng.choice(money)
        obj[field] = float(obj[field])
    elif variant == "unknown_type":
        obj["type"] = rng.choice(_UNKNOWN_TYPES[topic])
    else:  # missing_field, or float_money on an event without money
        entity = "session_id" if topic == CLICKSTREAM else "order_id"
        del obj[rng.choice((*_ALWAYS_REQUIRED, entity, *money))]
    return SimEvent(topic, key, orjson.dumps(obj), "malformed")


def inject_faults(
    valid: Iterator[tuple[int, SimEvent]], options: SimulationOptions
) -> Iterator[SimEvent]:
    """Mix faults into ``valid`` (slot, event) pairs; stop after ``options.max_events``.

    Each step adds exactly one to ``emitted + held``, so the run ends at its
    limit with every held event flushed: the valid events sent are exactly a
    prefix of the generator's stream.
    """
    rng = random.Random(f"{options.seed}:faults")
    p_bad = options.fraction_malformed
    p_dup = p_bad + options.fraction_duplicates
    p_late = options.fraction_out_of_order
    limit = options.max_events
    history: deque[SimEvent] = deque(maxlen=_HISTORY)
    money: deque[SimEvent] = deque(maxlen=_HISTORY)
    held: dict[int, SimEvent] = {}
    emitted = malformed = 0
    while limit is None or emitted + len(held) < limit:
        roll = rng.random() if p_dup else 1.0
        if roll < p_bad:
            malformed += 1
            yield make_malformed(rng, options.seed, malformed, history, money)
            emitted += 1
            continue
        if roll < p_dup and history:
            yield replace(history[rng.randrange(len(history))], kind="duplicate")
            emitted += 1
            continue
        slot, event = next(valid)
        late = held.pop(slot, None)
        if late is None and p_late and rng.random() < p_late:
            held[slot] = replace(event, kind="out_of_order")
            continue
        for sent in (event, late):
            if sent is not None:
                yield sent
                emitted += 1
                history.append(sent)
                if sent.topic == PAYMENTS or (sent.topic == ORDERS and b'"total"' in sent.value):
                    money.append(sent)
    for late in held.values():
        yield late
