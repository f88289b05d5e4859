"""The live dashboard in a real browser, against a real worker on a real broker.

Given a worker and a few hundred shop events of the last minutes (the load
generator) plus one hand-made order in a currency nobody else uses, when
headless Chromium opens ``/``, then the page fills in without a reload and
shows exactly what the HTTP API answers: revenue per currency and orders,
active sessions, the top products, the funnel and the order counts per status;
a section whose endpoint does not exist (404) shows "—". The operations
panel shows this worker's input topics with events/s and consumer lag, the
dead letters by stage with the latest (a poison record), and the latest
alerts (an order paid the wrong amount), as ``GET /operations`` answers. A
screenshot is saved
to ``test-artifacts/dashboard.png``.

Needs Debian's ``chromium`` and the ``playwright`` package (never ``playwright
install``: the browser comes from the system); without them the test is
skipped and says what to install.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from app.web.dashboard_feed import SOURCES
from domain.timefmt import format_time, now_utc
from loadgen import SimulationOptions, run_simulation
from tests.support.kafka_io import produce
from tests.support.prerequisites import require_program
from tests.support.shop_events import ShopScript
from tests.support.worker_process import ROOT, WorkerProcess

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = ROOT / "test-artifacts" / "dashboard.png"
DASH = "—"

#: Everything the page renders, read from its DOM (values as the data-* attributes hold them).
READ_PAGE = """() => {
  const q = (s) => document.querySelector(s);
  const all = (s) => [...document.querySelectorAll(s)];
  return {
    snapshots: Number(document.body.dataset.snapshots),
    revenueText: q('#revenue-total').textContent.trim(),
    revenue: Object.fromEntries(all('#revenue-totals li').map((li) => [li.dataset.currency, li.dataset.value])),
    revenueTexts: Object.fromEntries(all('#revenue-totals li').map((li) => [li.dataset.currency, li.textContent])),
    orders: q('#orders-total').dataset.value ?? null,
    ordersText: q('#orders-total').textContent.trim(),
    chartBars: Number(q('#revenue-chart').dataset.bars),
    chartCurrency: q('#revenue-chart').dataset.currency ?? null,
    activeSessions: q('#active-sessions').dataset.value ?? null,
    activeText: q('#active-sessions').textContent.trim(),
    averageDuration: q('#avg-duration').dataset.value ?? null,
    topSkus: all('#top-products tbody tr[data-sku]').map((tr) => tr.dataset.sku),
    productsText: q('#top-products tbody').textContent.trim(),
    funnel: Object.fromEntries(all('#funnel li[data-step]').map((li) => [li.dataset.step, li.dataset.value])),
    funnelText: q('#funnel').textContent.trim(),
    statuses: Object.fromEntries(all('#status-counts li[data-status]').map((li) => [li.dataset.status, Number(li.dataset.value)])),
    statusText: q('#status-counts').textContent.trim(),
    opsTopics: Object.fromEntries(all('#ops-topics tbody tr[data-topic]').map((tr) => [tr.dataset.topic, {rate: Number(tr.dataset.rate), lag: Number(tr.dataset.lag)}])),
    opsDeadStages: Object.fromEntries(all('#ops-dead-stages li[data-stage]').map((li) => [li.dataset.stage, Number(li.dataset.value)])),
    opsDeadLatest: all('#ops-dead-latest li[data-stage]').map((li) => li.dataset.stage + '/' + li.dataset.errorType),
    opsAlerts: all('#ops-alerts li[data-kind]').map((li) => li.dataset.kind + '/' + li.dataset.order),
  };
}"""


def _chromium_or_skip() -> str:
    if importlib.util.find_spec("playwright") is None:
        pytest.skip(
            "playwright is not installed: the dashboard browser test will be skipped "
            "(pip install -e '.[dev]')"
        )
    return require_program(
        "chromium", needed_for="the dashboard browser test", install="apt-get install chromium"
    )


def _order_created(unique: str) -> dict[str, Any]:
    return {
        "event_id": f"{unique}-e1",
        "type": "order_created",
        "order_id": f"{unique}-o1",
        "customer_id": f"{unique}-c1",
        "session_id": f"{unique}-s1",
        "currency": "CHF",
        "total": "12.34",
        "items": [{"sku": "sku-1", "category": "books", "quantity": 1, "unit_price": "12.34"}],
        "occurred_at": format_time(now_utc()),
    }


def _mismatches(
    api: dict[str, tuple[int, Any]], shown: dict[str, Any], mismatch_order: str
) -> list[str]:
    """What the page shows differently from the API (empty: they agree and data has settled)."""
    problems: list[str] = []

    def expect(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    for name, (status, _) in api.items():
        expect(status in (200, 404), f"{name}: API answers {status}, not settled yet")

    status, counts = api["order_status"]
    if status == 200:
        expect(shown["statuses"] == counts["counts"], f"statuses {shown['statuses']} != {counts}")
        expect(counts["counts"]["CREATED"] >= 1, "the hand-made order is not counted yet")

    status, revenue = api["revenue"]
    if status == 200:
        totals: dict[str, Decimal] = {}
        for bucket in revenue["buckets"]:
            cur = bucket["currency"]
            totals[cur] = totals.get(cur, Decimal(0)) + Decimal(bucket["revenue"])
        page_totals = {cur: Decimal(value) for cur, value in shown["revenue"].items()}
        expect(page_totals == totals, f"revenue {page_totals} != API {totals}")
        expect(totals.get("CHF") == Decimal("12.34"), f"CHF revenue {totals.get('CHF')} != 12.34")
        chf = shown["revenueTexts"].get("CHF")
        expect(chf == "CHF\u00a012.34", f"CHF shown as {chf!r}")
        orders = sum(bucket["orders"] for bucket in revenue["buckets"])
        expect(shown["orders"] == str(orders), f"orders {shown['orders']} != {orders}")
        lead = [b for b in revenue["buckets"] if b["currency"] == shown["chartCurrency"]]
        expect(shown["chartBars"] == len(lead), f"chart bars {shown['chartBars']} != {len(lead)}")
    else:
        expect(shown["revenueText"] == DASH and shown["ordersText"] == DASH, "revenue not —")

    status, sessions = api["sessions"]
    if status == 200:
        expect(sessions["active_sessions"] >= 1, "no active session yet")
        expect(
            shown["activeSessions"] == str(sessions["active_sessions"]),
            f"active sessions {shown['activeSessions']} != {sessions['active_sessions']}",
        )
    else:
        expect(shown["activeText"] == DASH, "sessions not —")

    status, top = api["top_products"]
    if status == 200:
        skus = [p["sku"] for p in top["products"]]
        expect(bool(skus), "no top products yet")
        expect(shown["topSkus"] == skus, f"top products {shown['topSkus']} != {skus}")
    else:
        expect(shown["productsText"] == DASH, "top products not —")

    status, ops = api["operations"]
    expect(status == 200, f"operations: API answers {status}")
    if status == 200:
        expect(
            set(shown["opsTopics"]) == set(ops["consumer_lag"]),
            f"operations topics {sorted(shown['opsTopics'])} != {sorted(ops['consumer_lag'])}",
        )
        expect(
            shown["opsDeadStages"] == ops["dead_letters"]["by_stage"],
            f"dead letters by stage {shown['opsDeadStages']} != {ops['dead_letters']['by_stage']}",
        )
        expect(
            ops["dead_letters"]["by_stage"].get("decode", 0) >= 1,
            "the poison record is not counted",
        )
        latest = [f"{d['stage']}/{d['error_type']}" for d in ops["dead_letters"]["latest"]]
        expect(
            shown["opsDeadLatest"] == latest,
            f"latest dead letters {shown['opsDeadLatest']} != {latest}",
        )
        alerts = [f"{a['kind']}/{a['order_id']}" for a in ops["alerts"]]
        expect(shown["opsAlerts"] == alerts, f"alerts {shown['opsAlerts']} != {alerts}")
        expect(any(a.endswith(mismatch_order) for a in alerts), "the mismatch alert is not shown")
        rates = ops["events_per_second"]
        expect(all(rate >= 0 for rate in rates.values()), f"negative rates {rates}")

    status, funnel = api["funnel"]
    if status == 200:
        steps = {step["step"]: str(step["sessions"]) for step in funnel["steps"]}
        expect(shown["funnel"] == steps, f"funnel {shown['funnel']} != {steps}")
    else:
        expect(shown["funnelText"] == DASH, "funnel not —")
    return problems


async def _api(worker: WorkerProcess) -> dict[str, tuple[int, Any]]:
    answers = await asyncio.gather(
        *(asyncio.to_thread(worker.get, path) for path in SOURCES.values())
    )
    return dict(zip(SOURCES, answers, strict=True))


async def test_dashboard_shows_what_the_api_answers_and_updates_live(
    start_worker: Callable[..., WorkerProcess], kafka_bootstrap: str, unique: str
) -> None:
    chromium = _chromium_or_skip()
    from playwright.async_api import async_playwright

    # Given a ready worker, shop activity of the last minutes and one order in CHF
    worker = start_worker()
    worker.wait_ready()
    options = SimulationOptions(count=300, rate=0, seed=20261121, brokers=kafka_bootstrap)
    report = await run_simulation(options)
    assert report.total == 300
    order = _order_created(unique)
    # and, for the operations panel, a poison record and an order paid the wrong amount (an alert)
    script = ShopScript(f"{unique}-ops")
    mismatch_order = script.order_id("mismatch")
    await produce(
        kafka_bootstrap,
        [
            ("orders", order["order_id"], order),
            ("orders", f"{unique}-poison", b"not json at all"),
            script.created("mismatch", total="10.00"),
        ],
    )
    await produce(kafka_bootstrap, [script.payment("mismatch", "authorized", amount="9.00")])

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1440, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            # When the dashboard is opened
            await page.goto(f"{worker.base_url}/")
            await page.evaluate("() => { window.__sameDocument = true; }")
            await page.wait_for_function("() => Number(document.body.dataset.snapshots) >= 1")

            # Then it converges to exactly what the API answers
            deadline = time.monotonic() + 120
            problems: list[str] = ["not compared yet"]
            while problems and time.monotonic() < deadline:
                api = await _api(worker)
                shown = await page.evaluate(READ_PAGE)
                problems = _mismatches(api, shown, mismatch_order)
                if problems:
                    await asyncio.sleep(1.0)
            assert not problems, (
                f"page and API disagree: {problems}\nworker log:\n{worker.log_tail(20)}"
            )
            print({name: status for name, (status, _) in api.items()}, shown["revenue"])

            # And it keeps updating in the same document (server-sent events, no reload)
            seen = shown["snapshots"]
            await page.wait_for_function(
                f"() => Number(document.body.dataset.snapshots) > {seen}", timeout=10_000
            )
            assert await page.evaluate("() => window.__sameDocument === true")
            assert await page.get_attribute("#connection", "data-state") == "live"
            assert not errors, f"JavaScript errors on the page: {errors}"
        finally:
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT), full_page=True)
            await browser.close()
