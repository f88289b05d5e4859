"""Simulated shoppers: the pure, deterministic source of valid events.

A fixed number of shopper sessions (``options.concurrency``) are in flight at
once; each step advances one of them, picked at random, by one event, so
sessions and order lifecycles interleave as they would in a real shop. A
session browses the clickstream, may check out, and then carries its order
through payments and shipments, with failures, cancellations and refunds.

Everything random comes from ``random.Random(seed)``: the same options (with
a fixed ``start_time``) give the same bytes. The catalogue and the customers
come from a fixed seed of their own, so ``sku-7`` has the same category and
price and ``c-42`` pays in the same currency in every run.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import accumulate, count

import orjson

from app.kafka.topic_names import CLICKSTREAM, ORDERS, PAYMENTS, SHIPMENTS
from domain.money import format_money
from domain.timefmt import format_time
from loadgen.events import SimEvent
from loadgen.faults import inject_faults
from loadgen.options import SimulationOptions

__all__ = [
    "CATEGORIES",
    "CURRENCIES",
    "Product",
    "build_catalogue",
    "customer_currency",
    "generate_events",
    "valid_events",
]

CURRENCIES = ("EUR", "USD", "GBP")
_FX = {"EUR": Decimal("1"), "USD": Decimal("1.09"), "GBP": Decimal("0.86")}

#: Category -> plausible EUR price range (whole euros).
CATEGORIES: dict[str, tuple[int, int]] = {
    "books": (6, 45),
    "electronics": (25, 900),
    "toys": (5, 80),
    "home": (8, 250),
    "garden": (5, 180),
    "fashion": (12, 220),
    "sports": (10, 300),
    "beauty": (4, 90),
    "grocery": (1, 30),
    "music": (8, 60),
    "games": (15, 80),
    "pets": (3, 70),
}
_CATALOGUE_SEED = "shopstream-catalogue-v1"
_ZIPF_PRODUCTS = 1.0
_ZIPF_CUSTOMERS = 0.7
_ANONYMOUS = 0.25
_METHODS = ("card", "paypal", "apple_pay", "klarna", "bank_transfer")
_METHOD_WEIGHTS = (60, 20, 10, 6, 4)
_CARRIERS = ("dhl", "ups", "dpd", "fedex", "gls")
_SEARCH_IN_CATEGORY = 0.5

Body = tuple[str, str, dict[str, object]]
"""An event before stamping: topic, key, and its fields, ``event_id`` first (None until
stamped) and ``occurred_at`` missing (appended when stamped, so it ends up last)."""


@dataclass(frozen=True, slots=True)
class Product:
    """One catalogue entry; ``prices`` maps currency to the exact unit price."""

    sku: str
    category: str
    prices: dict[str, Decimal]


def build_catalogue(size: int) -> tuple[Product, ...]:
    """The first ``size`` products of the stable catalogue, most popular first.

    Product ``i`` depends only on ``i`` (one fixed-seed stream, consumed in
    order), so a bigger catalogue extends a smaller one instead of reshuffling.
    """
    rng = random.Random(_CATALOGUE_SEED)
    names = list(CATEGORIES)
    products = []
    for i in range(1, size + 1):
        category = rng.choice(names)
        low, high = CATEGORIES[category]
        cents = rng.choice((99, 49, 0, 50, 95))
        base = Decimal(rng.randint(low, high)) + Decimal(cents) / 100
        prices = {cur: _to_cents(base * fx) for cur, fx in _FX.items()}
        products.append(Product(f"sku-{i}", category, prices))
    return tuple(products)


def _to_cents(amount: Decimal) -> Decimal:
    """Round to cents (the wire precision), so totals of unit prices stay exact."""
    return Decimal(format_money(amount))


def customer_currency(customer_id: str) -> str:
    """A customer's currency: a pure function of the id, stable across runs."""
    bucket = (int(customer_id.rpartition("-")[2]) * 2654435761) % 100
    return "EUR" if bucket < 55 else "USD" if bucket < 85 else "GBP"


def _cumulative_zipf(n: int, exponent: float) -> list[float]:
    return list(accumulate(1.0 / rank**exponent for rank in range(1, n + 1)))


class _World:
    """Shared state of one run: the rng, the catalogue and the id counters."""

    def __init__(self, options: SimulationOptions) -> None:
        self.rng = random.Random(options.seed)
        self.seed = options.seed
        self.catalogue = build_catalogue(options.products)
        self.by_category: dict[str, list[Product]] = {}
        for product in self.catalogue:
            self.by_category.setdefault(product.category, []).append(product)
        self.categories = sorted(self.by_category)
        self._product_cum = _cumulative_zipf(len(self.catalogue), _ZIPF_PRODUCTS)
        self._customer_cum = _cumulative_zipf(options.customers, _ZIPF_CUSTOMERS)
        self._ids = count(1)

    def new_id(self, prefix: str) -> str:
        """Ids carry the seed so runs with different seeds never collide on a key."""
        return f"{prefix}-{self.seed}-{next(self._ids)}"

    def product(self) -> Product:
        """A product by Zipf-like popularity: a few best-sellers, a long tail."""
        cum = self._product_cum
        return self.catalogue[min(bisect(cum, self.rng.random() * cum[-1]), len(cum) - 1)]

    def customer(self) -> str | None:
        """A (Zipf-skewed, so repeat buyers exist) customer id, or None if anonymous."""
        if self.rng.random() < _ANONYMOUS:
            return None
        cum = self._customer_cum
        return f"c-{min(bisect(cum, self.rng.random() * cum[-1]), len(cum) - 1) + 1}"

    def method(self) -> str:
        return self.rng.choices(_METHODS, _METHOD_WEIGHTS)[0]


def _session(world: _World) -> Iterator[Body]:
    """One shopper visit: browse, maybe buy, then the order's life after checkout."""
    rng = world.rng
    session_id = world.new_id("s")
    customer = world.customer()

    def click(kind: str, sku: str | None = None, category: str | None = None) -> Body:
        return (
            CLICKSTREAM,
            session_id,
            {
                "event_id": None,
                "type": kind,
                "session_id": session_id,
                "customer_id": customer,
                "sku": sku,
                "category": category,
            },
        )

    yield click("page_view", category=rng.choice(world.categories) if rng.random() < 0.3 else None)
    cart: dict[str, tuple[Product, int]] = {}
    viewed: Product | None = None
    for _ in range(60):
        roll = rng.random()
        if roll < 0.40:
            viewed = world.product()
            yield click("product_view", viewed.sku, viewed.category)
        elif roll < 0.47:
            in_category = rng.random() < _SEARCH_IN_CATEGORY
            yield click("search", category=rng.choice(world.categories) if in_category else None)
        elif roll < 0.52:
            yield click("page_view", category=rng.choice(world.categories))
        elif roll < 0.70 and viewed is not None:
            quantity = rng.choices((1, 2, 3, 4), (70, 18, 8, 4))[0]
            _, held = cart.get(viewed.sku, (viewed, 0))
            cart[viewed.sku] = (viewed, held + quantity)
            yield click("add_to_cart", viewed.sku, viewed.category)
        elif roll < 0.73 and cart:
            product, _ = cart.pop(rng.choice(list(cart)))
            yield click("remove_from_cart", product.sku, product.category)
        elif roll < 0.88 and cart and customer is not None:
            yield click("checkout_started")
            if rng.random() < 0.75:
                yield from _order(world, session_id, customer, list(cart.values()))
            return
        elif roll >= 0.88:
            return


def _order(
    world: _World, session_id: str, customer: str, lines: list[tuple[Product, int]]
) -> Iterator[Body]:
    """An order from checkout to its end: payment, shipping, or a cancellation."""
    rng = world.rng
    order_id = world.new_id("o")
    currency = customer_currency(customer)
    total = sum((p.prices[currency] * q for p, q in lines), Decimal(0))
    amount = format_money(total)
    items = [
        {"sku": p.sku, "category": p.category, "quantity": q, "unit_price": str(p.prices[currency])}
        for p, q in lines
    ]
    yield (
        ORDERS,
        order_id,
        {
            "event_id": None,
            "type": "order_created",
            "order_id": order_id,
            "customer_id": customer,
            "session_id": session_id,
            "currency": currency,
            "total": amount,
            "items": items,
        },
    )

    def cancel(reason: str) -> Body:
        fields = {"event_id": None, "type": "order_cancelled", "order_id": order_id}
        return ORDERS, order_id, {**fields, "reason": reason}

    def payment(kind: str, payment_id: str, method: str) -> Body:
        return (
            PAYMENTS,
            order_id,
            {
                "event_id": None,
                "type": kind,
                "payment_id": payment_id,
                "order_id": order_id,
                "amount": amount,
                "currency": currency,
                "method": method,
            },
        )

    if rng.random() < 0.04:
        yield cancel(rng.choice(("customer_request", "out_of_stock")))
        return
    method = world.method()
    if rng.random() < 0.08:
        yield payment("payment_failed", world.new_id("p"), method)
        if rng.random() < 0.3:
            yield cancel("payment_failed")
            return
        method = world.method()
    payment_id = world.new_id("p")
    yield payment("payment_authorized", payment_id, method)
    if rng.random() < 0.03:
        yield cancel("customer_request")
        yield payment("payment_refunded", payment_id, method)
        return
    shipment_id = world.new_id("sh")
    shipment = {"shipment_id": shipment_id, "order_id": order_id, "carrier": rng.choice(_CARRIERS)}
    yield SHIPMENTS, order_id, {"event_id": None, "type": "shipment_dispatched", **shipment}
    if rng.random() < 0.03:
        return  # still in transit when the run ends
    yield SHIPMENTS, order_id, {"event_id": None, "type": "shipment_delivered", **shipment}
    if rng.random() < 0.05:
        yield payment("payment_refunded", payment_id, method)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _event_clock(
    options: SimulationOptions, clock: Callable[[], datetime] | None
) -> Callable[[int], str]:
    """Event time of the ``n``-th valid event (from 0), formatted for the wire.

    With ``start_time`` the time is simulated (start + n / rate) and never
    reads a clock; without it, it is the wall clock at generation, which the
    producer drives at production time, so dashboards see "now".

    ``format_time`` (strftime) would be a third of the generator's cost, so it
    formats each whole second once and only the milliseconds are appended.
    """
    last_second = -1
    head = ""

    def wire(micros: int) -> str:
        nonlocal last_second, head
        second, micro = divmod(micros, 1_000_000)
        if second != last_second:
            last_second = second
            head = format_time(_EPOCH + timedelta(seconds=second))[:-4]  # "...:SS."
        return f"{head}{micro // 1000:03d}Z"

    start = options.start_time
    if start is None:
        now = clock or (lambda: datetime.now(UTC))
        return lambda _n: wire((now() - _EPOCH) // _MICROSECOND)
    start_us = (start - _EPOCH) // _MICROSECOND
    step_us = options.seconds_per_event * 1_000_000
    return lambda n: wire(start_us + round(n * step_us))


def valid_events(
    options: SimulationOptions, *, clock: Callable[[], datetime] | None = None
) -> Iterator[tuple[int, SimEvent]]:
    """The endless stream of valid events, each with the session slot it came from.

    The slot lets the fault injector hold an event back until its session's
    next event has gone out (a payment before its order, a delivery before its
    dispatch). Valid event ``n`` has ``event_id`` ``e-{seed}-{n}``, n from 1.
    """
    world = _World(options)
    rng = world.rng
    stamp = _event_clock(options, clock)
    slots = [_session(world) for _ in range(options.concurrency)]
    prefix = f"e-{options.seed}-"
    dumps = orjson.dumps
    random = rng.random
    concurrency = len(slots)
    for n in count():
        slot = int(random() * concurrency)
        try:
            topic, key, body = next(slots[slot])
        except StopIteration:
            slots[slot] = _session(world)
            topic, key, body = next(slots[slot])
        body["event_id"] = f"{prefix}{n + 1}"  # bodies reserve the first key for it
        body["occurred_at"] = stamp(n)
        value = dumps(body)
        yield slot, SimEvent(topic, key, value)


def generate_events(
    options: SimulationOptions, *, clock: Callable[[], datetime] | None = None
) -> Iterator[SimEvent]:
    """The records of one run: valid events with duplicates, late and malformed ones mixed in.

    Stops after ``options.max_events`` records (endless when that is None).
    ``clock`` replaces the wall clock when ``start_time`` is not set (tests).
    """
    return inject_faults(valid_events(options, clock=clock), options)
