"""The schema documents and the workers' own validation agree (DESIGN.md "Schemas").

Both directions, on the inputs: every value a document accepts, the worker
accepts; every value the worker's factories and the load generator produce, the
document accepts; and on values spoiled one field at a time, the two give the
same verdict. Two deliberate differences, both stated in the documents:

* the worker ignores fields a document does not declare (producers may add
  fields before ShopStream knows them), so the document's verdict is taken on
  :func:`declared_only` of the value;
* rules JSON Schema cannot state: an order's total equals the sum of its items,
  a date exists in the calendar and its instant lies in the years 1-9999 (UTC).

For the outputs, whatever the worker writes, the document accepts, and an
``order-status`` value the document accepts, the worker reads back.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.kafka.dead_letters import DeadLetter, dead_letter_record
from app.schemas.documents import document_for, document_validator
from app.schemas.validation import first_violation
from domain.click_events import click_event_from_wire
from domain.errors import InvalidInput
from domain.order_events import order_event_from_wire, to_wire
from domain.order_outputs import Alert, OrderStatus, StatusChange
from loadgen import SimulationOptions, generate_events
from tests.support.schema_values import declared_only, document_values, values_of
from tests.unit.domain import factories

INPUTS = ("orders", "payments", "shipments", "clickstream")
#: Refusals for the rules a JSON Schema cannot state (see the module docstring).
BEYOND_SCHEMA = ("does not match the items", "is not a calendar date", "out of range in UTC")
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def worker_refusal(topic: str, value: Any) -> str | None:
    """None when the worker's validation accepts ``value`` on ``topic``, else its reason."""
    try:
        if topic == "clickstream":
            click_event_from_wire(value)
        else:
            order_event_from_wire(topic, value)
    except InvalidInput as exc:
        return exc.reason
    return None


def document_refusal(topic: str, value: Any) -> str | None:
    return first_violation(document_validator(topic), declared_only(document_for(topic), value))


@pytest.mark.parametrize("topic", INPUTS)
@EXAMPLES
@given(data=st.data())
def test_what_a_document_accepts_the_worker_accepts(topic: str, data: st.DataObject) -> None:
    value = data.draw(document_values(topic))

    refusal = worker_refusal(topic, value)

    assert refusal is None or any(rule in refusal for rule in BEYOND_SCHEMA), (value, refusal)


#: Values a field is spoiled with: near misses of every rule, and plain wrong types.
SPOILERS: list[Any] = [
    None,
    "",
    " ",
    "\n",
    "x",
    "EUR",
    "eur",
    "EUR\n",
    "12.5",
    "12.50",
    "0",
    "012.50",
    "1e3",
    "+1.00",
    "-1.00",
    "12.505",
    "12.500",
    " 12.50",
    "12.50\n",
    "NaN",
    "1000000000.00",
    "1000000000.01",
    "999999999.99",
    0,
    1,
    3.0,
    2.5,
    -1,
    1_000_001,
    True,
    [],
    {},
    [{}],
    "2026-11-21T10:00:00.000Z",
    "2026-11-21T10:00:00Z",
    "2026-11-21T10:00:00",
    "2026-11-21",
    "2026-02-30T10:00:00Z",
    "2026-11-21T10:00:00.123456+01:00",
    "2026-11-21 10:00:00Z",
    "2026-11-21T10:00:00.000Z\n",
    "2026-11-21t10:00:00z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "2026-11-21T24:00:00Z",
    "a" * 128,
    "a" * 129,
    "a" * 257,
    "order_created",
    "order_cancelled",
    "payment_authorized",
    "payment_failed",
    "payment_refunded",
    "shipment_dispatched",
    "page_view",
    "checkout_started",
    "nope",
]


@st.composite
def spoiled(draw: st.DrawFn, value: dict[str, Any]) -> dict[str, Any]:
    """``value`` with one field removed, replaced or added (top level or in an order line)."""
    target = value
    items = value.get("items")
    if isinstance(items, list) and items and draw(st.booleans()):
        target = items[draw(st.integers(0, len(items) - 1))]
    action = draw(st.sampled_from(["delete", "replace", "replace", "add"]))
    if action == "delete" and target:
        del target[draw(st.sampled_from(sorted(target)))]
    elif action == "replace" and target:
        field = draw(st.sampled_from(sorted(target)))
        target[field] = draw(st.sampled_from(SPOILERS) | st.text(max_size=5) | st.integers())
    else:
        name = draw(st.sampled_from(["coupon", "amount", "reason", "sku", "total", "currency"]))
        target[name] = draw(st.sampled_from(SPOILERS))
    return value


@pytest.mark.parametrize("topic", INPUTS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_spoiled_values_get_the_same_verdict(topic: str, data: st.DataObject) -> None:
    value = data.draw(document_values(topic).flatmap(spoiled))

    by_worker = worker_refusal(topic, value)
    assume(by_worker is None or not any(rule in by_worker for rule in BEYOND_SCHEMA))
    by_document = document_refusal(topic, value)

    assert (by_worker is None) == (by_document is None), (value, by_worker, by_document)


def test_fields_a_document_does_not_declare_are_ignored_by_the_worker() -> None:
    value = {**factories.wire_created(), "coupon": "XMAS"}

    assert worker_refusal("orders", value) is None
    assert first_violation(document_validator("orders"), value) is not None
    assert document_refusal("orders", value) is None


def _factory_values() -> list[tuple[str, dict[str, Any]]]:
    builders: list[Callable[[], Any]] = [
        factories.created,
        factories.cancelled,
        factories.authorized,
        factories.failed,
        factories.refunded,
        factories.dispatched,
        factories.delivered,
    ]
    events = [build() for build in builders]
    return [("orders", factories.wire_created()), *((e.topic, to_wire(e)) for e in events)]


@pytest.mark.parametrize(("topic", "value"), _factory_values())
def test_what_the_factories_build_the_documents_accept(topic: str, value: dict[str, Any]) -> None:
    assert first_violation(document_validator(topic), value) is None


def test_the_load_generator_and_the_documents_agree_on_every_record() -> None:
    options = SimulationOptions(
        count=3000,
        seed=13,
        start_time=datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
        rate=50.0,
        fraction_duplicates=0.02,
        fraction_malformed=0.1,
        fraction_out_of_order=0.05,
    )
    checked = 0
    for event in generate_events(options):
        try:
            value = orjson.loads(event.value)
        except orjson.JSONDecodeError:
            continue  # undecodable bytes: the decoder refuses them before any schema
        by_document = first_violation(document_validator(event.topic), value)
        if event.is_valid:
            assert by_document is None, (event, by_document)
        assert (worker_refusal(event.topic, value) is None) == (by_document is None), event
        checked += 1
    assert checked > 2500


# -- outputs ------------------------------------------------------------------------------

_ids = values_of(document_for("orders")["$defs"]["id"])
_times = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
_statuses = st.sampled_from(list(OrderStatus))


@EXAMPLES
@given(
    order_id=_ids,
    status=_statuses,
    previous=st.none() | _statuses,
    reason=st.none() | st.text(max_size=300),
    caused_by=_ids,
    version=st.integers(1, 10**6),
    at=_times,
)
def test_what_the_worker_writes_on_order_status_the_document_accepts(
    order_id: str,
    status: OrderStatus,
    previous: OrderStatus | None,
    reason: str | None,
    caused_by: str,
    version: int,
    at: datetime,
) -> None:
    change = StatusChange(order_id, status, previous, reason, caused_by, version, at)

    assert first_violation(document_validator("order-status"), change.to_wire()) is None


@EXAMPLES
@given(data=st.data())
def test_what_the_order_status_document_accepts_the_worker_reads_back(
    data: st.DataObject,
) -> None:
    value = data.draw(document_values("order-status"))
    try:
        StatusChange.from_wire(value)
    except ValueError as exc:
        assert any(rule in str(exc) for rule in BEYOND_SCHEMA), (value, exc)


@EXAMPLES
@given(
    kind=st.sampled_from(["duplicate_payment", "payment_after_cancel", "fraud_velocity"]),
    order_id=_ids,
    customer_id=st.none() | _ids,
    detail=st.text(max_size=200),
    caused_by=_ids,
    at=_times,
)
def test_what_the_worker_writes_on_alerts_the_document_accepts(
    kind: str, order_id: str, customer_id: str | None, detail: str, caused_by: str, at: datetime
) -> None:
    alert = Alert(kind, order_id, customer_id, detail, caused_by, at)

    assert first_violation(document_validator("alerts"), alert.to_wire()) is None


@EXAMPLES
@given(
    topic=st.sampled_from(INPUTS),
    partition=st.integers(0, 1000),
    offset=st.integers(0, 2**62),
    key=st.none() | st.binary(max_size=40),
    value=st.none() | st.binary(max_size=80),
    stage=st.sampled_from(["decode", "validate", "apply", "pending", "window", "webhook"]),
    attempts=st.integers(1, 20),
    first=_times,
)
def test_what_the_worker_writes_on_dead_letters_the_document_accepts(
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    stage: str,
    attempts: int,
    first: datetime,
) -> None:
    letter = DeadLetter(topic, partition, offset, key, value, "X", "why", stage, attempts, first)
    record = dead_letter_record(letter, now=first + timedelta(seconds=attempts))

    assert first_violation(document_validator("dead-letters"), record) is None
    assert record["value_b64"] is None or base64.b64decode(record["value_b64"]) == value
