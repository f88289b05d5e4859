"""Hostile Kafka records for the input fuzzing test: Hypothesis strategies and a few giants.

Every record drawn here must be refused by a correct worker (dead-lettered,
never applied): a record that a reading of DESIGN.md or of the worker's
documented limits (ids of at most 128 characters, quantities of at most a
million, money with at most two decimals, ...) could apply is a generator bug.
Most are built from a valid event of the run (so they look like the real
thing and often name a real order or session) with one thing wrong; the rest
are bytes that are no event at all.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from loadgen import SimEvent

__all__ = [
    "BROKER_VALUE_LIMIT",
    "Hostile",
    "draw_hostile",
    "giants",
    "hostile_record",
    "known_hostile",
]

#: Kafka's default ``message.max.bytes`` (1 MiB + 12): the largest record batch an input takes.
BROKER_VALUE_LIMIT: Final = 1_048_588
#: What a record batch of one record adds to its key and value (header, varints, headroom).
_BATCH_OVERHEAD: Final = 200

ORDER_TOPICS: Final = ("orders", "payments", "shipments")
_ID_FIELD: Final = {"orders": "order_id", "payments": "order_id", "shipments": "order_id"}

#: Money strings no reading of DESIGN.md ("25.00") accepts, though Python's Decimal takes many.
BAD_MONEY: Final = (
    "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "1e999999", "1E+2", "1e2",
    "-1.00", "+5.00", " 5.00", "5.00 ", "5,00", "1_000.00", "0x1F", "5.001", "5.", ".5",
    "", "\u0661\u0662.\u0660\u0660", "\uff15.00", "5.00\u0000", "10000000000000.00",
)  # fmt: skip
#: Times that are no ISO-8601 instant with a zone, or none a datetime can hold in UTC.
BAD_TIMES: Final = (
    "2026-13-01T00:00:00.000Z", "2026-02-30T10:00:00.000Z", "2026-11-21T25:00:00.000Z",
    "99999-01-01T00:00:00.000Z", "+99999-01-01T00:00:00.000Z", "2026-11-21T10:00:00.000",
    "0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-01:00", "", "yesterday",
    "2026-11-21 10:00:00", "NaN", "1e999999", "2026-11-21T10:00:00.000Z\u0000",
)  # fmt: skip
BAD_CURRENCIES: Final = ("eur", "EU", "EURO", "\u20ac", "E1R", "", " EUR")
#: JSON values of every type, to put where another type belongs.
_INTS: Final = st.integers(min_value=-(2**63) + 1, max_value=2**64 - 1)  # what JSON codecs hold
_WRONG_TYPED: Final = st.one_of(
    st.none(),
    st.booleans(),
    _INTS,
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(_INTS, max_size=3),
    st.dictionaries(st.text(max_size=3), _INTS, max_size=2),
)


@dataclass(frozen=True, slots=True)
class Hostile:
    """One record to produce, and what is wrong with it (for failure messages)."""

    topic: str
    key: bytes | None
    value: bytes | None
    variant: str

    def describe(self) -> str:
        value = self.value if self.value is None else self.value[:120]
        key = self.key if self.key is None else self.key[:60]
        size = 0 if self.value is None else len(self.value)
        return f"{self.variant} on {self.topic}: key={key!r} value({size} B)={value!r}"


def _object(event: SimEvent) -> dict[str, Any]:
    decoded: dict[str, Any] = orjson.loads(event.value)
    return decoded


def _id_field(topic: str) -> str:
    return _ID_FIELD.get(topic, "session_id")


def _required_strings(event: SimEvent) -> list[str]:
    """String fields the event cannot do without (DESIGN.md and the worker agree on these)."""
    names = ["event_id", "type", "occurred_at", _id_field(event.topic)]
    value = _object(event)
    names += {
        "order_created": ["customer_id", "currency", "total"],
        "payment_authorized": ["payment_id", "amount", "currency"],
        "payment_failed": ["payment_id"],
        "payment_refunded": ["amount", "currency"],
        "shipment_dispatched": ["shipment_id"],
        "shipment_delivered": ["shipment_id"],
    }.get(value.get("type", ""), [])
    return names


def _hostile(
    event: SimEvent, variant: str, value: bytes | None, key: bytes | None = None
) -> Hostile:
    return Hostile(event.topic, event.key.encode() if key is None else key, value, variant)


@st.composite
def _mutated(draw: Callable[..., Any], base: SimEvent) -> Hostile:
    """A valid event of the run with exactly one thing wrong."""
    value = _object(base)
    strings = _required_strings(base)
    kind = draw(
        st.sampled_from(
            [
                "wrong_type",
                "missing",
                "bad_time",
                "blank_id",
                "huge_id",
                "unknown_type",
                "lone_surrogate",
                "bad_money",
                "bad_currency",
                "bad_items",
                "huge_number",
                "total_mismatch",
                "nested_field",
            ]
        )
    )
    money = [name for name in ("total", "amount") if name in value]
    if kind == "bad_money" and money:
        value[draw(st.sampled_from(money))] = draw(st.sampled_from(BAD_MONEY))
    elif kind == "bad_currency" and "currency" in value:
        value["currency"] = draw(st.sampled_from(BAD_CURRENCIES))
    elif kind in ("bad_items", "huge_number", "total_mismatch") and "items" in value:
        return _bad_items(draw, base, value, kind)
    elif kind == "bad_time":
        value["occurred_at"] = draw(st.sampled_from(BAD_TIMES))
    elif kind == "missing":
        del value[draw(st.sampled_from(strings))]
    elif kind == "blank_id":
        value[draw(st.sampled_from(["event_id", _id_field(base.topic)]))] = draw(
            st.sampled_from(["", " ", "\t\n"])
        )
    elif kind == "huge_id":
        name = _id_field(base.topic)
        value[name] = draw(st.text(alphabet="ab-", min_size=129, max_size=5000))
        return _hostile(base, f"huge_{name}", orjson.dumps(value), key=value[name].encode())
    elif kind == "unknown_type":
        value["type"] = draw(st.sampled_from(["order_exploded", "ORDER_CREATED", "", "page-view"]))
    elif kind == "lone_surrogate":
        name = draw(st.sampled_from(strings))
        raw = orjson.dumps({**value, name: "@@"}).replace(b'"@@"', b'"x\\ud800y"')
        return _hostile(base, f"lone_surrogate_{name}", raw)
    elif kind == "nested_field":
        name = draw(st.sampled_from(strings))
        depth = draw(st.integers(min_value=1, max_value=3000))
        raw = orjson.dumps({**value, name: "@@"}).replace(b'"@@"', b"[" * depth + b"]" * depth)
        return _hostile(base, f"nested_{name}_{depth}", raw)
    else:
        name = draw(st.sampled_from(strings))
        value[name] = draw(_WRONG_TYPED)
        kind = f"wrong_type_{name}"
    return _hostile(base, kind, orjson.dumps(value))


def _bad_items(
    draw: Callable[..., Any], base: SimEvent, value: dict[str, Any], kind: str
) -> Hostile:
    items = value["items"]
    if kind == "total_mismatch":
        cents = draw(st.integers(min_value=1, max_value=10_000))
        value["total"] = str(int(value["total"].replace(".", "")) + cents).rjust(3, "0")
        value["total"] = value["total"][:-2] + "." + value["total"][-2:]
        return _hostile(base, "total_mismatch", orjson.dumps(value))
    if kind == "huge_number":  # a literal no 64-bit integer holds, or just over the limit
        digits = draw(st.integers(min_value=7, max_value=400))
        raw = orjson.dumps({**value, "items": [{**items[0], "quantity": "@@"}, *items[1:]]})
        raw = raw.replace(b'"@@"', b"1" + b"0" * digits)
        return _hostile(base, f"quantity_1e{digits}", raw)
    bad = draw(
        st.sampled_from(
            [
                [],
                {},
                "items",
                [None],
                [[]],
                [{"sku": "s"}],
                [{**items[0], "quantity": 0}],
                [{**items[0], "quantity": -1}],
                [{**items[0], "quantity": 1.5}],
                [{**items[0], "quantity": True}],
                [{**items[0], "quantity": "1"}],
                [{**items[0], "unit_price": "NaN"}],
                [{**items[0], "unit_price": 12.5}],
                [{**items[0], "sku": ""}],
                [items[0]] * 1001,
            ]
        )
    )
    value["items"] = bad
    return _hostile(base, "bad_items", orjson.dumps(value))


@st.composite
def _no_event(draw: Callable[..., Any], base: SimEvent) -> Hostile:
    """Bytes that are no event at all: random, invalid UTF-8, another JSON type, deep nesting,
    a wire-format frame around nothing valid."""
    kind = draw(
        st.sampled_from(["bytes", "utf8", "json", "deep", "tombstone", "constant", "framed"])
    )
    if kind == "framed":  # the Confluent wire format's 0x00 + schema id, then no event
        header = b"\x00" + draw(st.binary(min_size=4, max_size=4))
        body = draw(
            st.sampled_from([b"", b"\xff\xfe", b"[1, 2]", b"null", b'"text"', b"{", header])
        )
        short = draw(st.binary(max_size=3))
        return _hostile(base, "framed", draw(st.sampled_from([header + body, b"\x00" + short])))
    if kind == "bytes":
        return _hostile(base, "random_bytes", draw(st.binary(max_size=3000)))
    if kind == "utf8":
        raw = base.value
        at = draw(st.integers(min_value=0, max_value=len(raw)))
        bad = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]))
        return _hostile(base, "invalid_utf8", raw[:at] + bad + raw[at:])
    if kind == "json":
        other = draw(
            st.one_of(
                _WRONG_TYPED.filter(lambda v: not isinstance(v, dict)),
                st.lists(st.just(_object(base)), min_size=1, max_size=2),
            )
        )
        return _hostile(base, "json_not_object", orjson.dumps(other))
    if kind == "deep":
        depth = draw(st.integers(min_value=1025, max_value=50_000))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
        return _hostile(base, f"deep_{depth}", opener * depth + b"1" + closer * depth)
    if kind == "constant":
        raw = draw(st.sampled_from([b'{"a": NaN}', b"Infinity", b'{"total": 1e999999}', b"{"]))
        return _hostile(base, "json_constant", raw)
    return _hostile(base, "tombstone", None)


@st.composite
def _bad_key(draw: Callable[..., Any], base: SimEvent) -> Hostile:
    """A valid value under a key that is not its order or session id."""
    key = draw(
        st.one_of(
            st.none(),
            st.just(b""),
            st.binary(min_size=1, max_size=64).filter(lambda k: k != base.key.encode()),
            st.just(base.key.encode() + b"\xff"),
            st.just(base.key.encode() + b" "),
        )
    )
    return Hostile(base.topic, key, base.value, "key_mismatch")


@st.composite
def _wrong_topic(draw: Callable[..., Any], base: SimEvent, valid: Sequence[SimEvent]) -> Hostile:
    """A valid event of one topic, keyed right, produced to another input topic."""
    topics = [t for t in (*ORDER_TOPICS, "clickstream") if t != base.topic]
    topic = draw(st.sampled_from(topics))
    return Hostile(topic, base.key.encode(), base.value, f"from_{base.topic}")


def hostile_record(valid: Sequence[SimEvent]) -> st.SearchStrategy[Hostile]:
    """One hostile record, most of them derived from one of the run's ``valid`` events."""
    by_topic: dict[str, list[SimEvent]] = {}
    for event in valid:
        by_topic.setdefault(event.topic, []).append(event)
    bases = st.sampled_from(sorted(by_topic)).flatmap(lambda t: st.sampled_from(by_topic[t]))
    mutated = bases.flatmap(_mutated)  # the subtle ones: three chances in six
    return st.one_of(
        mutated,
        mutated,
        mutated,
        bases.flatmap(_no_event),
        bases.flatmap(_bad_key),
        bases.flatmap(lambda base: _wrong_topic(base, valid)),
    )


def draw_hostile(valid: Sequence[SimEvent], *, count: int, seed_value: int) -> list[Hostile]:
    """``count`` hostile records, the same for the same seed (no example database involved)."""
    drawn: list[Hostile] = []

    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @seed(seed_value)
    @given(hostile_record(valid))
    def collect(record: Hostile) -> None:
        drawn.append(record)

    collect()
    return drawn


def giants(valid: Sequence[SimEvent], seed_value: int) -> list[Hostile]:
    """Records up to the broker's limit: bytes, nesting, a huge id, a huge key."""
    rng = random.Random(seed_value)
    order = next(e for e in valid if e.topic == "orders")
    click = next(e for e in valid if e.topic == "clickstream")
    room = BROKER_VALUE_LIMIT - _BATCH_OVERHEAD
    key = order.key.encode()
    huge_id = "o" * (room - len(order.value) - len(key))
    as_json = _object(order)
    return [
        Hostile("orders", key, rng.randbytes(room - len(key)), "giant_random_bytes"),
        Hostile("shipments", key, b"[" * (room - len(key)), "giant_nesting"),
        Hostile(
            "orders",
            key,
            orjson.dumps({**as_json, "order_id": huge_id}),
            "giant_order_id",
        ),
        Hostile("clickstream", rng.randbytes(room // 2), click.value, "giant_key"),
    ]


def known_hostile(valid: Sequence[SimEvent]) -> list[Hostile]:
    """Every bad time and money string on a real order and session, and keyless records.

    What random draws may miss, each once, every run: these found bugs before
    (a time before the year 1 in UTC raised OverflowError out of the agent;
    " 5.00", "1E+2" and "1_000.00" were taken for money; keyless records were applied).
    """
    order = next(e for e in valid if e.topic == "orders" and b"order_created" in e.value)
    click = next(e for e in valid if e.topic == "clickstream")
    records = []
    for base in (order, click):
        for moment in BAD_TIMES:
            value = {**_object(base), "occurred_at": moment}
            records.append(_hostile(base, f"time {moment!r}", orjson.dumps(value)))
        records.append(Hostile(base.topic, None, base.value, "no_key"))
    for money in BAD_MONEY:
        value = {**_object(order), "total": money}
        records.append(_hostile(order, f"total {money!r}", orjson.dumps(value)))
    return records
