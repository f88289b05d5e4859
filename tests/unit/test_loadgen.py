"""The load generator keeps DESIGN.md's contract, is deterministic, and injects honest faults."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiokafka
import orjson
import pytest

from app.kafka.topic_names import CLICKSTREAM, ORDERS, PAYMENTS, SHIPMENTS
from domain.timefmt import format_time, parse_time
from loadgen import (
    MALFORMED_VARIANTS,
    REQUIRED_FIELDS,
    TOPIC_OF_TYPE,
    SimEvent,
    SimulationOptions,
    SimulationReport,
    TokenBucket,
    build_catalogue,
    customer_currency,
    generate_events,
    parse_brokers,
    read_jsonl,
    run_simulation,
    write_jsonl,
)
from loadgen.shoppers import CATEGORIES, CURRENCIES

START = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
MONEY = re.compile(r"\d+\.\d{2}")
WIRE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
FAULTS = {"fraction_duplicates": 0.05, "fraction_malformed": 0.05, "fraction_out_of_order": 0.1}
CATALOGUE = {p.sku: p for p in build_catalogue(300)}


def options(**overrides: Any) -> SimulationOptions:
    settings: dict[str, Any] = {"count": 5000, "seed": 7, "start_time": START, "rate": 50.0}
    return SimulationOptions(**{**settings, **overrides})


def events(**overrides: Any) -> list[SimEvent]:
    return list(generate_events(options(**overrides)))


def number(event_id: str) -> int:
    return int(event_id.rpartition("-")[2])


def violation(event: SimEvent) -> str | None:
    """Why ``event`` breaks DESIGN.md on its own, or None if it conforms."""
    try:
        obj = orjson.loads(event.value)
    except orjson.JSONDecodeError as exc:
        return f"not JSON: {exc}"
    if not isinstance(obj, dict):
        return "not an object"
    kind = obj.get("type")
    if kind not in REQUIRED_FIELDS:
        return f"unknown type: {kind!r}"
    if tuple(obj) != REQUIRED_FIELDS[kind]:
        return f"wrong fields: {sorted(obj)}"
    if TOPIC_OF_TYPE[kind] != event.topic:
        return "wrong topic"
    if event.key != obj["session_id" if event.topic == CLICKSTREAM else "order_id"]:
        return "wrong key"
    if not isinstance(obj["occurred_at"], str) or not WIRE_TIME.fullmatch(obj["occurred_at"]):
        return "bad occurred_at"
    for field in ("total", "amount"):
        if field in obj and not (isinstance(obj[field], str) and MONEY.fullmatch(obj[field])):
            return f"bad money: {field}={obj[field]!r}"
    if "currency" in obj and obj["currency"] not in CURRENCIES:
        return "bad currency"
    if kind == "order_created":
        total = Decimal(0)
        for item in obj["items"]:
            assert set(item) == {"sku", "category", "quantity", "unit_price"}
            assert isinstance(item["quantity"], int) and item["quantity"] >= 1
            assert MONEY.fullmatch(item["unit_price"])
            assert CATALOGUE[item["sku"]].category == item["category"]
            total += item["quantity"] * Decimal(item["unit_price"])
        if not obj["items"] or Decimal(obj["total"]) != total:
            return "total is not the sum of the items"
        if obj["currency"] != customer_currency(obj["customer_id"]):
            return "currency is not the customer's"
    if kind == "product_view" and CATALOGUE[obj["sku"]].category != obj["category"]:
        return "sku and category disagree"
    return None


def valid(records: Iterable[SimEvent]) -> list[SimEvent]:
    return [e for e in records if e.kind in ("ok", "out_of_order")]


def by_event_number(records: Iterable[SimEvent]) -> list[SimEvent]:
    return sorted(records, key=lambda e: number(orjson.loads(e.value)["event_id"]))


# --- determinism ------------------------------------------------------------------------


def test_same_seed_same_bytes() -> None:
    assert events(**FAULTS) == events(**FAULTS)


def test_different_seeds_differ() -> None:
    first, second = events(seed=1), events(seed=2)
    assert [e.value for e in first] != [e.value for e in second]
    assert not {e.key for e in first} & {e.key for e in second}  # ids carry the seed


def test_a_longer_run_extends_a_shorter_one() -> None:
    assert events(count=4000)[:1500] == events(count=1500)


def test_deterministic_mode_never_reads_the_wall_clock() -> None:
    def no_clock() -> datetime:
        raise AssertionError("clock read with start_time set")

    run = options(count=300)
    assert list(generate_events(run, clock=no_clock)) == list(generate_events(run))


# --- DESIGN.md conformance ----------------------------------------------------------------


def test_every_valid_event_conforms() -> None:
    records = events(count=20_000)
    assert all(e.kind == "ok" for e in records)
    problems = [(violation(e), e) for e in records if violation(e)]
    assert not problems, problems[:3]
    assert {e.topic for e in records} == {ORDERS, PAYMENTS, SHIPMENTS, CLICKSTREAM}
    types = Counter(orjson.loads(e.value)["type"] for e in records)
    assert set(types) == set(REQUIRED_FIELDS), set(REQUIRED_FIELDS) - set(types)


def test_event_ids_are_unique_and_numbered_in_order() -> None:
    records = events(count=3000)
    ids = [orjson.loads(e.value)["event_id"] for e in records]
    assert ids == [f"e-7-{n}" for n in range(1, 3001)]


def test_orders_match_their_sessions_payments_and_shipments() -> None:
    records = events(count=20_000)
    session_customer: dict[str, str | None] = {}
    orders: dict[str, dict[str, Any]] = {}
    lifecycle: dict[str, list[str]] = defaultdict(list)
    for event in records:
        obj = orjson.loads(event.value)
        if event.topic == CLICKSTREAM:
            assert (
                session_customer.setdefault(obj["session_id"], obj["customer_id"])
                == (obj["customer_id"])
            )
            continue
        lifecycle[obj["order_id"]].append(obj["type"])
        if obj["type"] == "order_created":
            assert session_customer[obj["session_id"]] == obj["customer_id"] is not None
            orders[obj["order_id"]] = obj
        elif event.topic == PAYMENTS:
            order = orders[obj["order_id"]]
            assert (obj["amount"], obj["currency"]) == (order["total"], order["currency"])
    assert len(orders) > 200
    for order_id, steps in lifecycle.items():
        assert steps[0] == "order_created" and steps.count("order_created") == 1, order_id
        if "shipment_dispatched" in steps:
            assert steps.index("payment_authorized") < steps.index("shipment_dispatched")
        if "shipment_delivered" in steps:
            assert steps.index("shipment_dispatched") < steps.index("shipment_delivered")
        if "payment_refunded" in steps:
            assert steps.index("payment_authorized") < steps.index("payment_refunded")
    endings = Counter(steps[-1] for steps in lifecycle.values())
    # every branch of the lifecycle shows up in a run of this size
    assert {"order_cancelled", "payment_refunded", "shipment_delivered"} <= set(endings)
    assert any("payment_failed" in steps for steps in lifecycle.values())


def test_customers_keep_their_currency_across_runs() -> None:
    seen: dict[str, str] = {}
    for seed in (1, 2, 3):
        for event in events(seed=seed, count=5000):
            if event.topic == ORDERS and b'"order_created"' in event.value:
                obj = orjson.loads(event.value)
                assert seen.setdefault(obj["customer_id"], obj["currency"]) == obj["currency"]
    assert set(seen.values()) == set(CURRENCIES)


def test_catalogue_is_stable_and_popularity_is_skewed() -> None:
    small, big = build_catalogue(20), build_catalogue(300)
    assert big[:20] == small
    assert len({p.sku for p in big}) == 300
    assert {p.category for p in big} <= set(CATEGORIES)
    assert all(MONEY.fullmatch(str(price)) for p in big for price in p.prices.values())
    views = Counter(
        orjson.loads(e.value)["sku"] for e in events(count=20_000) if b"product_view" in e.value
    )
    top_30 = sum(n for _, n in views.most_common(30))
    assert top_30 > 0.5 * sum(views.values())  # top 10% of products get most of the views
    assert views["sku-1"] > views["sku-10"] > views["sku-100"]


def test_event_time_advances_one_over_rate_per_valid_event() -> None:
    for event in events(count=500, rate=50.0, **FAULTS):
        if event.kind != "malformed":
            obj = orjson.loads(event.value)
            expected = START + timedelta(seconds=(number(obj["event_id"]) - 1) / 50)
            assert obj["occurred_at"] == format_time(expected)


def test_live_event_time_is_the_clock_at_generation() -> None:
    ticks = iter(START + timedelta(milliseconds=n) for n in range(10**6))
    run = SimulationOptions(count=50, seed=1, rate=0)
    times = [
        parse_time(orjson.loads(e.value)["occurred_at"])
        for e in generate_events(run, clock=lambda: next(ticks))
    ]
    assert times == [START + timedelta(milliseconds=n) for n in range(50)]


def test_live_event_time_defaults_to_now() -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    first = next(generate_events(SimulationOptions(count=5, rate=0)))
    assert before <= parse_time(orjson.loads(first.value)["occurred_at"]) <= datetime.now(UTC)


# --- faults -------------------------------------------------------------------------------


def test_faults_add_and_delay_records_but_never_change_valid_events() -> None:
    faulty = events(count=10_000, **FAULTS)
    assert len(faulty) == 10_000
    good = valid(faulty)
    clean = events(count=len(good))
    assert [e.value for e in by_event_number(good)] == [e.value for e in clean]


def test_fractions_are_roughly_respected() -> None:
    faulty = events(count=40_000, **FAULTS)
    kinds = Counter(e.kind for e in faulty)
    assert kinds["malformed"] / 40_000 == pytest.approx(0.05, abs=0.01)
    assert kinds["duplicate"] / 40_000 == pytest.approx(0.05, abs=0.01)
    late_share = kinds["out_of_order"] / (kinds["ok"] + kinds["out_of_order"])
    assert 0.06 < late_share <= 0.11  # held only while its session holds no other
    assert Counter(e.kind for e in events(count=2000)) == {"ok": 2000}


def test_duplicates_repeat_an_earlier_record_verbatim() -> None:
    seen: set[tuple[str, str, bytes]] = set()
    duplicates = 0
    for event in events(count=5000, **FAULTS):
        record = (event.topic, event.key, event.value)
        if event.kind == "duplicate":
            duplicates += 1
            assert record in seen
        elif event.kind != "malformed":
            assert record not in seen
            seen.add(record)
    assert duplicates > 100


def test_out_of_order_events_arrive_after_later_events_of_their_order() -> None:
    arrived: dict[str, list[int]] = defaultdict(list)
    late_after_later = 0
    first_arrivals: dict[str, str] = {}
    for event in events(count=30_000, fraction_out_of_order=0.2):
        obj = orjson.loads(event.value)
        n = number(obj["event_id"])
        if event.kind == "out_of_order" and any(m > n for m in arrived[event.key]):
            late_after_later += event.topic != CLICKSTREAM
        arrived[event.key].append(n)
        if event.topic != CLICKSTREAM:
            first_arrivals.setdefault(event.key, obj["type"])
    assert late_after_later > 100  # real cross-topic disorder within one order
    assert Counter(first_arrivals.values())["payment_authorized"] > 10  # paid before created


def test_malformed_records_are_extra_and_all_broken() -> None:
    faulty = events(count=20_000, **FAULTS)
    valid_ids = {orjson.loads(e.value)["event_id"] for e in valid(faulty)}
    reasons: Counter[str] = Counter()
    for event in faulty:
        if event.kind != "malformed":
            assert violation(event) is None
            continue
        reason = violation(event)
        assert reason is not None, event
        reasons[reason.split(":")[0]] += 1
        try:
            obj = orjson.loads(event.value)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict) and "event_id" in obj:
            assert obj["event_id"] not in valid_ids
            assert "-x" in event.key  # fresh entity ids: cannot corrupt a real order
    undecodable = sum(1 for e in faulty if e.kind == "malformed" and not _is_utf8(e.value))
    assert undecodable > 20
    assert reasons["not JSON"] > 20
    assert set(reasons) == {
        "not JSON",
        "not an object",
        "unknown type",
        "bad money",
        "wrong fields",
    }
    assert min(reasons.values()) > 20
    assert len(MALFORMED_VARIANTS) == 6


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True


# --- JSONL ----------------------------------------------------------------------------------


def test_jsonl_round_trip(tmp_path: Path) -> None:
    records = events(count=3000, **FAULTS)
    path = tmp_path / "run.jsonl"
    report = write_jsonl(records, path)
    assert report.total == 3000 and sum(report.per_kind.values()) == 3000
    assert list(read_jsonl(path)) == records
    for line, event in zip(path.read_bytes().splitlines(), records, strict=True):
        row = orjson.loads(line)
        assert list(row) == ["topic", "key", "value", "value_b64", "kind"]
        try:
            decoded = orjson.loads(event.value)
        except orjson.JSONDecodeError:
            decoded = None
        assert row["value"] == decoded


def test_read_jsonl_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"topic":"orders","key":"o","value":null,"value_b64":"e30=","kind":"ok"}\n{}\n'
    )
    with pytest.raises(ValueError, match=r"bad\.jsonl:2"):
        list(read_jsonl(path))


# --- options ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "option"),
    [
        ({"count": None, "duration": None}, "duration or count"),
        ({"rate": -1}, "rate"),
        ({"rate": float("nan")}, "rate"),
        ({"rate": "fast"}, "rate"),
        ({"duration": 0}, "duration"),
        ({"duration": float("inf")}, "duration"),
        ({"count": 0}, "count"),
        ({"count": 2.5}, "count"),
        ({"count": True}, "count"),
        ({"seed": -3}, "seed"),
        ({"fraction_duplicates": 1.5}, "fraction_duplicates"),
        ({"fraction_malformed": -0.1}, "fraction_malformed"),
        ({"fraction_out_of_order": 1.0}, "fraction_out_of_order"),
        ({"fraction_duplicates": 0.5, "fraction_malformed": 0.5}, "fraction_duplicates +"),
        ({"brokers": ""}, "brokers"),
        ({"brokers": "kafka://host:port"}, "brokers"),
        ({"brokers": "a:70000"}, "brokers"),
        ({"jsonl_path": ""}, "jsonl_path"),
        ({"start_time": datetime(2026, 1, 1)}, "start_time"),
        ({"progress": "yes"}, "progress"),
        ({"concurrency": 0}, "concurrency"),
        ({"customers": 0}, "customers"),
        ({"products": -1}, "products"),
        ({"topic_prefix": "a b"}, "topic_prefix"),
    ],
)
def test_bad_options_name_the_option(overrides: dict[str, Any], option: str) -> None:
    with pytest.raises(ValueError) as caught:
        options(**overrides)
    message = str(caught.value)
    assert message.startswith(option), message
    assert "\n" not in message


def test_options_normalise_and_bound() -> None:
    run = options(jsonl_path="out.jsonl", start_time=START.astimezone(timezone(timedelta(hours=2))))
    assert run.jsonl_path == Path("out.jsonl")
    assert run.start_time == START and run.start_time.tzinfo == UTC
    assert options(count=10).max_events == 10
    assert options(count=None, duration=2, rate=50).max_events == 100
    assert options(count=30, duration=2, rate=50).max_events == 30
    assert options(count=None, duration=2, rate=0).max_events is None
    assert options(rate=0).seconds_per_event == 0.001


def test_parse_brokers_accepts_faust_urls_and_lists() -> None:
    assert parse_brokers("kafka://a:1;kafka://b:2") == ["a:1", "b:2"]
    assert parse_brokers("a:1, b:2") == ["a:1", "b:2"]
    assert parse_brokers("kafka://localhost") == ["localhost:9092"]
    assert parse_brokers("[::1]:9093") == ["[::1]:9093"]


# --- producing (with a stand-in producer: no Kafka in unit tests) -----------------------------


class FakeProducer:
    instances: list[FakeProducer] = []

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.stopped = False
        FakeProducer.instances.append(self)

    async def start(self) -> None:
        pass

    async def send(self, topic: str, value: bytes, *, key: bytes) -> Any:
        import asyncio

        self.sent.append((topic, key, value))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def flush(self) -> None:
        pass

    async def stop(self) -> None:
        self.stopped = True


@pytest.fixture
def fake_kafka(monkeypatch: pytest.MonkeyPatch) -> Callable[[], FakeProducer]:
    FakeProducer.instances.clear()
    monkeypatch.setattr(aiokafka, "AIOKafkaProducer", FakeProducer)
    return lambda: FakeProducer.instances[-1]


async def test_run_simulation_sends_every_record(
    fake_kafka: Callable[[], FakeProducer], tmp_path: Path
) -> None:
    run = options(
        count=5000,
        rate=0,
        brokers="kafka://k1:9092;k2:9093",
        jsonl_path=tmp_path / "sent.jsonl",
        topic_prefix="t-",
        progress=True,
        **FAULTS,
    )
    report = await run_simulation(run)
    producer = fake_kafka()
    expected = list(generate_events(run))
    assert producer.sent == [("t-" + e.topic, e.key.encode(), e.value) for e in expected]
    assert producer.config["bootstrap_servers"] == ["k1:9092", "k2:9093"]
    assert producer.config["acks"] == "all" and producer.config["enable_idempotence"] is True
    assert producer.stopped
    assert list(read_jsonl(tmp_path / "sent.jsonl")) == expected
    assert report.total == 5000
    assert report.per_kind == Counter(e.kind for e in expected)
    assert report.per_topic == Counter(e.topic for e in expected)
    assert "5000 records" in report.summary()
    assert report.to_dict()["seed"] == 7


async def test_run_simulation_keeps_the_rate(fake_kafka: Callable[[], FakeProducer]) -> None:
    started = time.monotonic()
    report = await run_simulation(options(count=600, rate=2000))
    elapsed = time.monotonic() - started
    assert report.total == 600
    assert 0.2 <= elapsed < 2.0  # 600 records at 2000/s, minus the 50 ms burst


async def test_run_simulation_stops_after_duration(fake_kafka: Callable[[], FakeProducer]) -> None:
    report = await run_simulation(options(count=None, duration=0.3, rate=0))
    assert 0.3 <= report.elapsed_seconds < 2.0
    assert report.total == len(fake_kafka().sent) > 0


def test_token_bucket_paces_to_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(100.0, burst=1.0, clock=lambda: now[0])
    for _ in range(1000):
        now[0] += bucket.reserve()
    assert now[0] == pytest.approx(9.99)  # the first token was in the bucket
    now[0] += 60  # idle: the bucket refills only up to its burst
    assert bucket.reserve() == 0 and bucket.reserve() == pytest.approx(0.01)


def test_report_rate() -> None:
    report = SimulationReport(10, {ORDERS: 10}, {"ok": 10}, 2.0)
    assert report.achieved_rate == 5.0
    assert report.to_dict()["achieved_rate"] == 5.0


def test_generating_100k_events_is_fast() -> None:
    started = time.perf_counter()
    assert sum(1 for _ in generate_events(options(count=100_000, **FAULTS))) == 100_000
    assert time.perf_counter() - started < 15  # ~1 s on a laptop; loose for busy CI


async def test_run_simulation_replays_a_recording(
    fake_kafka: Callable[[], FakeProducer], tmp_path: Path
) -> None:
    recorded = events(count=400, **FAULTS)
    write_jsonl(recorded, tmp_path / "run.jsonl")
    replay = options(count=250, rate=0, seed=99)  # seed is irrelevant to a replay
    report = await run_simulation(replay, events=read_jsonl(tmp_path / "run.jsonl"))
    assert report.total == 250
    assert fake_kafka().sent == [(e.topic, e.key.encode(), e.value) for e in recorded[:250]]
