// ShopStream live dashboard: renders the snapshots of GET /dashboard/events.
// Hand-written, no library: money stays exact (decimal strings summed with BigInt),
// a section whose endpoint is unavailable shows "—", and the page never reloads.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const DASH = "—";
const STATUSES = ["CREATED", "PAID", "SHIPPED", "DELIVERED", "PAYMENT_FAILED", "ON_HOLD", "CANCELLED", "REFUNDED"];
const STATUS_LABELS = {
  CREATED: "Created", PAID: "Paid", SHIPPED: "Shipped", DELIVERED: "Delivered",
  PAYMENT_FAILED: "Payment failed", ON_HOLD: "On hold", CANCELLED: "Cancelled", REFUNDED: "Refunded",
};
const STEP_LABELS = {
  product_view: "Viewed a product", add_to_cart: "Added to cart",
  checkout_started: "Started checkout", purchase: "Purchased",
};
const state = { currency: null, snapshots: 0 };

// ---- small DOM helpers -------------------------------------------------------
const $ = (selector) => document.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  node.append(...children);
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  node.append(...children);
  return node;
}

function setAttrs(node, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
}

function show(selector, text, value) {
  const node = $(selector);
  node.textContent = text;
  if (value === undefined || value === null) node.removeAttribute("data-value");
  else node.dataset.value = String(value);
}

function note(selector, text, warning = false) {
  const node = $(selector);
  node.textContent = text || "";
  node.classList.toggle("is-warning", Boolean(text) && warning);
}

function unavailableNote(snapshot, section) {
  const reason = (snapshot.unavailable || {})[section];
  return reason ? `Not available right now (${reason}).` : "";
}

// ---- numbers and money ---------------------------------------------------------
function parseDecimal(text) {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(text));
  if (!match) return null;
  const fraction = match[3] || "";
  const units = BigInt(match[2] + fraction) * (match[1] ? -1n : 1n);
  return { units, scale: fraction.length };
}

function sumDecimals(texts) {
  const parts = texts.map(parseDecimal).filter(Boolean);
  const scale = Math.max(0, ...parts.map((p) => p.scale));
  let total = 0n;
  for (const p of parts) total += p.units * 10n ** BigInt(scale - p.scale);
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale ? "." + digits.slice(digits.length - scale) : "";
  return (negative ? "-" : "") + whole + fraction;
}

function currencySymbol(format) {
  // "€", "$", "£"; codes such as "CHF" get a (non-breaking) space before the amount.
  const symbol = format.formatToParts(0).find((part) => part.type === "currency").value;
  return /^[A-Za-z]+$/.test(symbol) ? `${symbol}\u00a0` : symbol;
}

function currencyFormat(currency) {
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency });
  } catch (error) {
    return null;
  }
}

function formatMoney(amount, currency) {
  // Exact: the decimal string is grouped, not converted to a float.
  const format = currencyFormat(currency);
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount);
  if (!format || !match) return `${amount} ${currency}`;
  const digits = format.resolvedOptions().maximumFractionDigits;
  const symbol = currencySymbol(format);
  const whole = match[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  let fraction = match[3] || "";
  if (fraction.length < digits) fraction = fraction.padEnd(digits, "0");
  return `${match[1]}${symbol}${whole}${fraction ? "." + fraction : ""}`;
}

function formatCompactMoney(value, currency) {
  const format = currencyFormat(currency);
  const symbol = format ? currencySymbol(format) : "";
  const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
  return symbol + compact.format(value);
}

const formatInt = (n) => Number(n).toLocaleString("en-US");

function formatDuration(seconds) {
  const total = Math.round(Number(seconds));
  if (!Number.isFinite(total)) return DASH;
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  if (h) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m) return `${m} min ${String(s).padStart(2, "0")} s`;
  return `${s} s`;
}

const formatPercent = (rate) => `${(Number(rate) * 100).toFixed(1)}%`;

function formatClock(date) {
  return date.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
}

function niceCeiling(value) {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((s) => s * magnitude >= value);
  return step * magnitude;
}

// ---- revenue ----------------------------------------------------------------------
function revenueByCurrency(revenue) {
  const byCurrency = new Map();
  for (const bucket of revenue.buckets || []) {
    if (!byCurrency.has(bucket.currency)) byCurrency.set(bucket.currency, []);
    byCurrency.get(bucket.currency).push(bucket);
  }
  const totals = [...byCurrency.entries()].map(([currency, buckets]) => ({
    currency,
    buckets,
    total: sumDecimals(buckets.map((b) => b.revenue)),
    orders: buckets.reduce((n, b) => n + Number(b.orders || 0), 0),
  }));
  return totals.sort((a, b) => Number(b.total) - Number(a.total) || a.currency.localeCompare(b.currency));
}

function renderRevenue(snapshot) {
  const revenue = snapshot.revenue;
  const list = $("#revenue-totals");
  const tabs = $("#currency-tabs");
  const chart = $("#revenue-chart");
  list.replaceChildren();
  tabs.replaceChildren();
  if (!revenue) {
    show("#revenue-total", DASH);
    show("#orders-total", DASH);
    chart.replaceChildren(el("div", { class: "chart__placeholder" }, DASH));
    chart.dataset.bars = "0";
    note("#revenue-note", unavailableNote(snapshot, "revenue"), true);
    return;
  }
  const series = revenueByCurrency(revenue);
  for (const s of series) {
    list.append(el("li", { "data-currency": s.currency, "data-value": s.total }, formatMoney(s.total, s.currency)));
  }
  const orders = series.reduce((n, s) => n + s.orders, 0);
  show("#orders-total", formatInt(orders), orders);
  if (!series.some((s) => s.currency === state.currency)) state.currency = series.length ? series[0].currency : null;
  const selected = series.find((s) => s.currency === state.currency);
  const lead = series[0];
  if (lead) {
    show("#revenue-total", formatMoney(lead.total, lead.currency), lead.total);
    $("#revenue-total").dataset.currency = lead.currency;
  } else {
    show("#revenue-total", "0", "0");
    delete $("#revenue-total").dataset.currency;
  }
  if (series.length > 1) {
    for (const s of series) {
      const tab = el("button", { class: "tab", role: "tab", "aria-selected": s === selected, type: "button" }, s.currency);
      tab.addEventListener("click", () => { state.currency = s.currency; renderRevenue(snapshot); });
      tabs.append(tab);
    }
  }
  drawRevenueChart(chart, revenue, selected);
  note("#revenue-note", series.length ? "Sum of created orders' totals per minute; hover a bar for details." : "");
}

function drawRevenueChart(container, revenue, series) {
  const width = 900, height = 280;
  const m = { top: 16, right: 18, bottom: 44, left: 74 };
  const plotW = width - m.left - m.right, plotH = height - m.top - m.bottom;
  const from = new Date(revenue.from), until = new Date(revenue.until);
  const minutes = Math.max(1, Math.round((until - from) / 60000));
  const slot = plotW / minutes;
  const currency = series ? series.currency : null;
  const buckets = series ? series.buckets : [];
  const max = niceCeiling(Math.max(0, ...buckets.map((b) => Number(b.revenue))));
  const y = (v) => m.top + plotH - (v / max) * plotH;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Revenue per minute" });

  const yAxis = svg("g", { class: "axis" });
  for (let i = 0; i <= 4; i++) {
    const value = (max * i) / 4;
    yAxis.append(
      svg("line", { class: i ? "gridline" : "baseline", x1: m.left, x2: width - m.right, y1: y(value), y2: y(value) }),
      svg("text", { x: m.left - 8, y: y(value) + 4, "text-anchor": "end" }, currency ? formatCompactMoney(value, currency) : String(value)),
    );
  }
  const xAxis = svg("g", { class: "axis" });
  const every = minutes > 120 ? 60 : minutes > 30 ? 10 : 5;
  for (let i = 0; i <= minutes; i++) {
    const at = new Date(from.getTime() + i * 60000);
    if (at.getMinutes() % every !== 0) continue;
    const x = m.left + i * slot;
    xAxis.append(
      svg("line", { class: "gridline", x1: x, x2: x, y1: m.top + plotH, y2: m.top + plotH + 5 }),
      svg("text", { x, y: m.top + plotH + 18, "text-anchor": "middle" }, formatClock(at)),
    );
  }
  const bars = svg("g", {});
  for (const b of buckets) {
    const index = Math.round((new Date(b.start) - from) / 60000);
    if (index < 0 || index >= minutes) continue;
    const value = Number(b.revenue), top = y(value);
    const label = `${formatClock(new Date(b.start))}: ${formatMoney(b.revenue, currency)} from ${formatInt(b.orders)} order(s)`;
    bars.append(svg("rect", {
      class: "bar", x: m.left + index * slot + slot * 0.15, width: Math.max(1, slot * 0.7),
      y: top, height: Math.max(0, m.top + plotH - top), rx: 1.5, "data-start": b.start, "data-value": b.revenue,
    }, svg("title", {}, label)));
  }
  root.append(yAxis, xAxis, bars,
    svg("text", { class: "axis-title", x: m.left + plotW / 2, y: height - 6, "text-anchor": "middle" }, "Minute of event time (local clock)"),
    svg("text", { class: "axis-title", transform: `translate(14 ${m.top + plotH / 2}) rotate(-90)`, "text-anchor": "middle" },
      currency ? `Revenue per minute (${currency})` : "Revenue per minute"));
  if (!buckets.length) {
    root.append(svg("text", { class: "empty", x: m.left + plotW / 2, y: m.top + plotH / 2, "text-anchor": "middle" }, "No orders in this range yet"));
  }
  container.replaceChildren(root);
  container.dataset.bars = String(bars.childElementCount);
  container.dataset.currency = currency || "";
}

// ---- sessions, funnel, products, statuses ---------------------------------------
function renderSessions(snapshot) {
  const sessions = snapshot.sessions;
  if (!sessions) {
    show("#active-sessions", DASH);
    show("#avg-duration", DASH);
    return;
  }
  show("#active-sessions", formatInt(sessions.active_sessions), sessions.active_sessions);
  const avg = sessions.average_duration_seconds;
  show("#avg-duration", avg === null || avg === undefined ? DASH : formatDuration(avg), avg);
}

function barRow(attrs, label, value, share, extra) {
  const count = el("span", { class: "count" }, formatInt(value));
  if (extra) count.append(el("small", {}, extra));
  const fill = el("span", { class: "fill" });
  // A visible sliver for any non-zero value; set through CSSOM, which the page's CSP allows.
  fill.style.width = Number(value) > 0 ? `${Math.max(1, share * 100).toFixed(2)}%` : "0";
  return el("li", attrs,
    el("span", { class: "label", title: label }, label),
    el("span", { class: "track" }, fill),
    count);
}

function renderFunnel(snapshot) {
  const funnel = snapshot.funnel;
  const list = $("#funnel");
  if (!funnel) {
    list.replaceChildren(el("li", { class: "empty" }, DASH));
    show("#conversion", DASH);
    note("#funnel-note", unavailableNote(snapshot, "funnel"), true);
    return;
  }
  const steps = funnel.steps || [];
  const first = steps.length ? Number(steps[0].sessions) : 0;
  list.replaceChildren(...steps.map((step) => {
    const share = first ? Number(step.sessions) / first : 0;
    return barRow({ "data-step": step.step, "data-value": step.sessions },
      STEP_LABELS[step.step] || step.step, step.sessions, share, first ? formatPercent(share) : "");
  }));
  const rate = funnel.conversion_rate;
  show("#conversion", rate === null || rate === undefined ? DASH : formatPercent(rate), rate);
  const bought = steps.find((step) => step.step === "purchase");
  note("#funnel-note", first && bought
    ? `${formatPercent(rate)} of the ${formatInt(first)} sessions that viewed a product went on to buy (${formatInt(bought.sessions)}).`
    : "");
}

function renderTopProducts(snapshot) {
  const body = $("#top-products tbody");
  const top = snapshot.top_products;
  if (!top || !(top.products || []).length) {
    body.replaceChildren(el("tr", { class: "empty" }, el("td", { colspan: 5 }, top ? "No product views in this range yet" : DASH)));
    note("#products-note", top ? "" : unavailableNote(snapshot, "top_products"), true);
    return;
  }
  body.replaceChildren(...top.products.map((p, i) => el("tr", { "data-sku": p.sku },
    el("td", { class: "num" }, String(i + 1)),
    el("td", { class: "sku" }, p.sku),
    el("td", { class: "num", "data-field": "views" }, formatInt(p.views)),
    el("td", { class: "num", "data-field": "add_to_cart" }, formatInt(p.add_to_cart)),
    el("td", { class: "num", "data-field": "purchases" }, formatInt(p.purchases)))));
  note("#products-note", "");
}

function renderStatuses(snapshot) {
  const answer = snapshot.order_status;
  const list = $("#status-counts");
  if (!answer) {
    list.replaceChildren(el("li", { class: "empty" }, DASH));
    show("#status-total", "");
    note("#status-note", unavailableNote(snapshot, "order_status"), true);
    return;
  }
  const counts = answer.counts || {};
  const known = [...STATUSES, ...Object.keys(counts).filter((s) => !STATUSES.includes(s))];
  const max = Math.max(1, ...known.map((s) => Number(counts[s] || 0)));
  const total = Number(answer.total ?? known.reduce((n, s) => n + Number(counts[s] || 0), 0));
  list.replaceChildren(...known.map((status) => {
    const value = Number(counts[status] || 0);
    return barRow({ class: `status-${status}`, "data-status": status, "data-value": value },
      STATUS_LABELS[status] || status, value, value / max, total ? formatPercent(value / total) : "");
  }));
  show("#status-total", `${formatInt(total)} orders, all time`, total);
  const parts = answer.partitions;
  if (answer.complete === false && parts) {
    note("#status-note", `Partial: counted ${parts.counted.length} of ${parts.expected} partitions (rebalancing or a worker is unreachable).`, true);
  } else {
    note("#status-note", "");
  }
}

// ---- operations: lag, events/s, dead letters, alerts (this worker) ---------------
function eventRow(attrs, when, what, text) {
  const time = when ? new Date(when).toLocaleTimeString("en-GB") : "";
  return el("li", attrs, el("span", { class: "muted" }, time), el("span", {}, what),
    el("span", { title: text }, text));
}

function renderOperations(snapshot) {
  const ops = snapshot.operations;
  const body = $("#ops-topics tbody");
  const lists = ["#ops-dead-stages", "#ops-dead-latest", "#ops-alerts"];
  if (!ops) {
    body.replaceChildren(el("tr", { class: "empty" }, el("td", { colspan: 3 }, DASH)));
    for (const selector of lists) $(selector).replaceChildren(el("li", { class: "empty" }, DASH));
    note("#ops-note", unavailableNote(snapshot, "operations"), true);
    return;
  }
  $("#ops-worker").textContent = `this worker: ${ops.worker}`;
  const topics = Object.keys(ops.consumer_lag || {});
  body.replaceChildren(...topics.map((topic) => {
    const rate = Number((ops.events_per_second || {})[topic] || 0);
    const lag = Number(ops.consumer_lag[topic]);
    return el("tr", { "data-topic": topic, "data-rate": rate, "data-lag": lag },
      el("td", { class: "sku" }, topic),
      el("td", { class: "num" }, rate.toFixed(1)),
      el("td", { class: "num" }, formatInt(lag)));
  }));
  const stages = Object.entries((ops.dead_letters || {}).by_stage || {});
  $("#ops-dead-stages").replaceChildren(...(stages.length
    ? stages.map(([stage, n]) => el("li", { "data-stage": stage, "data-value": n }, stage, el("b", {}, formatInt(n))))
    : [el("li", { class: "empty" }, "none since this worker started")]));
  const letters = (ops.dead_letters || {}).latest || [];
  $("#ops-dead-latest").replaceChildren(...(letters.length
    ? letters.map((d) => eventRow({ "data-stage": d.stage, "data-error-type": d.error_type },
      d.at, `${d.source_topic}[${d.partition}]@${d.offset}`, `${d.stage} · ${d.error_type}: ${d.error}`))
    : [el("li", { class: "empty" }, "")]));
  const alerts = ops.alerts || [];
  $("#ops-alerts").replaceChildren(...(alerts.length
    ? alerts.map((a) => eventRow({ "data-kind": a.kind, "data-order": a.order_id }, a.occurred_at,
      a.order_id || "", `${a.kind}: ${a.detail}`))
    : [el("li", { class: "empty" }, "none since this worker started")]));
  note("#ops-note", "");
}

// ---- wiring ---------------------------------------------------------------------
function render(snapshot) {
  $("#window-minutes").textContent = String(snapshot.window_minutes || 60);
  renderRevenue(snapshot);
  renderSessions(snapshot);
  renderFunnel(snapshot);
  renderTopProducts(snapshot);
  renderStatuses(snapshot);
  renderOperations(snapshot);
  state.snapshots += 1;
  document.body.dataset.snapshots = String(state.snapshots);
  document.body.dataset.generatedAt = snapshot.generated_at;
  $("#updated").textContent = `updated ${new Date(snapshot.generated_at).toLocaleTimeString("en-GB")}`;
}

function setConnection(stateName, text) {
  const node = $("#connection");
  node.dataset.state = stateName;
  node.textContent = text;
}

function connect() {
  const source = new EventSource("/dashboard/events");
  source.addEventListener("open", () => setConnection("live", "Live"));
  source.addEventListener("error", () => setConnection("reconnecting", "Reconnecting…"));
  source.addEventListener("snapshot", (event) => {
    setConnection("live", "Live");
    try {
      render(JSON.parse(event.data));
    } catch (error) {
      console.error("dashboard: cannot render snapshot", error);
    }
  });
}

connect();
