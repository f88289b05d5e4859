"""The client comparison: KafkaJS and node-rdkafka (the seeds' two), aiokafka and confluent-kafka.

Same broker (the harness's), same topic layout (``partitions`` partitions, replication 1),
same messages: an ``order_created`` event of DESIGN.md padded to exactly 300 bytes, and to
1 KiB; keys ``o-<i mod 10000>``. Per message size and repeat, each client in turn (the order
rotates between repeats, so no client always runs first on a warm or busy machine):

- produce rate: ``client_messages`` messages into a fresh topic, acks=all and idempotent
  (half the messages at 1 KiB, for both rates);
- consume rate: one consumer of a fresh group reads a topic pre-loaded once per size with
  ``client_consume_messages`` records, the same for every client (the batch layout is not
  the producer's under test); timed from the first record to the last;
- produce latency: one message at a time at ``client_latency_rate`` per second, p50/p99;
- peak RSS of the client's process in each of those runs.

Install time from an empty cache and "needs a native build" come from
:mod:`bench.clients.install`, once per run (node-rdkafka's compile takes minutes).
Each measurement is a subprocess (``bench/clients/node/bench.js``,
``bench.clients.python_client``) printing one JSON line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.clients.install import (
    NODE_CLIENTS,
    NODE_DIR,
    PYTHON_CLIENTS,
    Installed,
    InstallFailed,
    install_node,
    install_python,
)
from bench.harness import Harness
from bench.kafka import create_topics, delete_topics, reset_topics
from bench.report import Row
from bench.stats import summarize

__all__ = ["CLIENTS", "run_clients", "shop_event_of_size"]

CLIENTS = (*NODE_CLIENTS, *PYTHON_CLIENTS)
#: (client, message size, metric) -> the value of each repeat.
Measured = dict[tuple[str, int, str], list[float]]
ROOT = Path(__file__).resolve().parents[2]
BENCH = "clients"


PER_MESSAGE = "produce rate, one message per send()"
UNITS = {
    "produce rate": "msg/s",
    PER_MESSAGE: "msg/s",
    "consume rate": "msg/s",
    "produce p50": "ms",
    "produce p99": "ms",
    "peak RSS produce": "MiB",
    "peak RSS consume": "MiB",
}


def shop_event_of_size(size: int) -> bytes:
    """A DESIGN.md ``order_created`` of exactly ``size`` bytes (items, then a ``note`` pad)."""
    unit_price = "12.50"
    item = {"sku": "sku-1042", "category": "books", "quantity": 1, "unit_price": unit_price}
    event: dict[str, Any] = {
        "event_id": "e-58213-1",
        "type": "order_created",
        "order_id": "o-58213",
        "customer_id": "c-7741",
        "session_id": "s-99120",
        "currency": "EUR",
        "total": "12.50",
        "items": [item],
        "occurred_at": "2026-12-02T10:00:00.000Z",
    }

    def encoded(e: dict[str, Any]) -> bytes:
        return json.dumps(e, separators=(",", ":")).encode()

    while len(encoded({**event, "items": [*event["items"], item], "note": ""})) <= size:
        event["items"].append(item)
        event["total"] = str(Decimal(unit_price) * len(event["items"]))
    pad = size - len(encoded({**event, "note": ""}))
    if pad < 0:
        raise ValueError(f"an order_created event does not fit in {size} bytes")
    value = encoded({**event, "note": "x" * pad})
    if len(value) != size:
        raise ValueError(f"padding missed: {len(value)} bytes instead of {size}")
    return value


def _measure(
    h: Harness, client: str, installed: dict[str, Installed], mode: str, args: Sequence[str]
) -> dict[str, Any]:
    """Run one measurement subprocess; its JSON line."""
    common = ["--mode", mode, "--bootstrap", h.bootstrap, *args]
    if client in NODE_CLIENTS:
        command = [
            "node",
            str(NODE_DIR / "bench.js"),
            "--client",
            client,
            "--modules",
            installed[client].location,
            *common,
        ]
    else:
        command = [sys.executable, "-m", "bench.clients.python_client", "--client", client, *common]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{client} {mode} failed ({result.returncode}):\n{result.stderr[-2000:]}"
        )
    line = [x for x in result.stdout.splitlines() if x.startswith("{")][-1]
    found: dict[str, Any] = json.loads(line)
    h.log(f"{client} {mode}: {found}")
    return found


def _install_all(h: Harness, folder: Path) -> dict[str, Installed]:
    installed: dict[str, Installed] = {}
    for client in CLIENTS:
        try:
            if client in NODE_CLIENTS:
                installed[client] = install_node(client, folder)
            else:
                installed[client] = install_python(client, folder)
        except InstallFailed as exc:
            h.note(f"clients: {client} not installed, not measured: {str(exc)[:300]}")
            continue
        h.log(f"installed {installed[client]}")
    return installed


async def _one_client(
    h: Harness,
    client: str,
    installed: dict[str, Installed],
    value_file: Path,
    loaded: str,
    count: int,
    loaded_count: int,
) -> dict[str, float | None]:
    """Produce, consume and latency runs of one client at one size: metric -> value."""
    cfg = h.config
    run_id = f"{client}-{uuid.uuid4().hex[:8]}"
    produced, latency_topic = f"clients-produce-{run_id}", f"clients-latency-{run_id}"
    await create_topics(h.bootstrap, [produced, latency_topic], cfg.partitions)
    value = ["--value-file", str(value_file)]
    try:
        p = _measure(
            h, client, installed, "produce", [*value, "--topic", produced, "--count", str(count)]
        )
        c = _measure(
            h,
            client,
            installed,
            "consume",
            [*value, "--topic", loaded, "--count", str(loaded_count), "--group", f"g-{run_id}"],
        )
        rate = [
            "--rate",
            str(cfg.client_latency_rate),
            "--seconds",
            str(cfg.client_latency_seconds),
        ]
        lat = _measure(h, client, installed, "latency", [*value, "--topic", latency_topic, *rate])
        one_by_one: dict[str, Any] = {}
        if client == "kafkajs":  # KafkaJS does not batch sends itself: how fast one by one?
            one_by_one = _measure(
                h,
                client,
                installed,
                "produce",
                [
                    *value,
                    *("--topic", produced, "--count", str(cfg.client_per_message_messages)),
                    *("--per-message", "true"),
                ],
            )
    finally:
        await delete_topics(h.bootstrap, [produced, latency_topic])
    return {
        "produce rate": p.get("rate"),
        PER_MESSAGE: one_by_one.get("rate"),
        "consume rate": c.get("rate"),
        "produce p50": lat.get("p50_ms"),
        "produce p99": lat.get("p99_ms"),
        "peak RSS produce": p.get("peak_rss_mib"),
        "peak RSS consume": c.get("peak_rss_mib"),
    }


async def run_clients(h: Harness) -> tuple[list[Row], dict[str, Any]]:
    """Install each client (timed), then measure it; rows and the install facts."""
    cfg = h.config
    folder = cfg.work_dir / "clients"
    folder.mkdir(parents=True, exist_ok=True)
    installed = _install_all(h, folder)
    clients = [c for c in CLIENTS if c in installed]
    values: Measured = {}
    await reset_topics(h.bootstrap)
    for size in cfg.client_sizes:
        value_file = folder / f"value-{size}.json"
        value_file.write_bytes(shop_event_of_size(size))
        share = 1 if size == min(cfg.client_sizes) else 2
        count, loaded_count = cfg.client_messages // share, cfg.client_consume_messages // share
        loaded = f"clients-load-{size}"
        await create_topics(h.bootstrap, [loaded], cfg.partitions)
        # The pre-load is confluent-kafka's produce run (the fastest loader here), not timed.
        loader = "confluent-kafka" if "confluent-kafka" in installed else clients[0]
        _measure(
            h,
            loader,
            installed,
            "produce",
            ["--topic", loaded, "--value-file", str(value_file), "--count", str(loaded_count)],
        )
        for rep in range(cfg.repeats):
            order = clients[rep % len(clients) :] + clients[: rep % len(clients)]
            for client in order:
                try:
                    measured = await _one_client(
                        h, client, installed, value_file, loaded, count, loaded_count
                    )
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    h.note(f"clients: {client} {size} B repeat {rep + 1} failed: {str(exc)[:300]}")
                    continue
                for metric, value in measured.items():
                    if value is not None:
                        values.setdefault((client, size, metric), []).append(float(value))
        await delete_topics(h.bootstrap, [loaded])
    return _rows(cfg.client_latency_rate, clients, cfg.client_sizes, values, installed)


def _rows(
    rate: float,
    clients: Sequence[str],
    sizes: Sequence[int],
    values: Measured,
    installed: dict[str, Installed],
) -> tuple[list[Row], dict[str, Any]]:
    rows: list[Row] = []
    for client in clients:
        rows.append(
            Row(
                BENCH,
                client,
                "install time (empty cache)",
                "s",
                summarize([installed[client].seconds]),
            )
        )
        for size in sizes:
            for metric, unit in UNITS.items():
                shown = f"{metric} at {rate:g} msg/s" if metric.startswith("produce p") else metric
                if metric == PER_MESSAGE and client != "kafkajs":
                    continue
                summary = summarize(values.get((client, size, metric), []))
                rows.append(Row(BENCH, f"{client}, {size} B", shown, unit, summary))
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    facts = {
        "install": {c: i.to_dict() for c, i in installed.items()},
        "latency_rate": rate,
        "node": node.stdout.strip(),
    }
    return rows, facts
