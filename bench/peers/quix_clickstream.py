"""The peer: Quix Streams computing ShopStream's clickstream aggregation.

``python -m bench.peers.quix_clickstream --bootstrap HOST:PORT --topic clickstream
--count N --product-events M --state-dir DIR``

As close as Quix allows to ``agents/analytics.py``: event time from
``occurred_at``; per session (the message key) a RocksDB state with first and
last event time, event count and funnel steps reached; per product a one-minute
tumbling window (grace as ShopStream's default 600 s) counting views and
add-to-carts, kept in RocksDB with changelog topics. One difference is
structural: Quix state is scoped to the message key, so per-product counts
need ``group_by("sku")`` (a repartition topic), where ShopStream keeps
per-partition partial counts and merges them when queried.

Timed from the first record to the moment both stages have seen every record.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from typing import Any

import orjson
from quixstreams import Application, State
from quixstreams.models import TimestampType

CLICK_TYPES = frozenset(
    {"page_view", "search", "product_view", "add_to_cart", "remove_from_cart", "checkout_started"}
)
PRODUCT_TYPES = frozenset({"product_view", "add_to_cart"})
FUNNEL = ("product_view", "add_to_cart", "checkout_started")


def event_time(value: Any, headers: Any, timestamp: float, kind: TimestampType) -> int:
    """Milliseconds since the epoch of ``occurred_at`` (event time, as ShopStream)."""
    try:
        moment = datetime.fromisoformat(value["occurred_at"].replace("Z", "+00:00"))
        return int(moment.timestamp() * 1000)
    except (KeyError, TypeError, ValueError, AttributeError):
        return int(timestamp)


def valid(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("type") in CLICK_TYPES
        and isinstance(value.get("session_id"), str)
        and isinstance(value.get("occurred_at"), str)
    )


def track_session(value: dict[str, Any], state: State[Any, Any]) -> None:
    """Per-session state: first/last event time, events, funnel steps reached."""
    session = state.get("session") or {"first": value["occurred_at"], "events": 0, "steps": []}
    session["last"] = value["occurred_at"]
    session["events"] += 1
    if value["type"] in FUNNEL and value["type"] not in session["steps"]:
        session["steps"].append(value["type"])
    state.set("session", session)


def count_product(counts: dict[str, int], value: dict[str, Any]) -> dict[str, int]:
    key = "views" if value["type"] == "product_view" else "add_to_cart"
    counts[key] += 1
    return counts


def first_count(value: dict[str, Any]) -> dict[str, int]:
    return count_product({"views": 0, "add_to_cart": 0}, value)


def build(args: argparse.Namespace) -> tuple[Application, dict[str, Any]]:
    app = Application(
        broker_address=args.bootstrap,
        consumer_group=args.group,
        auto_offset_reset="earliest",
        state_dir=args.state_dir,
        commit_interval=args.commit_interval,
        loglevel="WARNING",
    )
    progress: dict[str, Any] = {"first": None, "inputs": 0, "products": 0, "end": None}

    def seen_input(value: Any) -> None:
        if progress["first"] is None:
            progress["first"] = time.perf_counter()
        progress["inputs"] += 1

    def seen_product(value: Any) -> None:
        progress["products"] += 1
        if progress["inputs"] >= args.count and progress["products"] >= args.product_events:
            progress["end"] = time.perf_counter()
            app.stop()

    topic = app.topic(args.topic, value_deserializer="json", timestamp_extractor=event_time)
    sdf = app.dataframe(topic)
    sdf = sdf.update(seen_input)
    sdf = sdf.filter(valid)
    sdf = sdf.update(track_session, stateful=True)
    sdf = sdf.filter(lambda v: v["type"] in PRODUCT_TYPES and v.get("sku") is not None)
    sdf = sdf.group_by("sku")
    window = sdf.tumbling_window(duration_ms=60_000, grace_ms=600_000)
    sdf = window.reduce(reducer=count_product, initializer=first_count).current()
    sdf = sdf.update(seen_product)
    return app, progress


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", default="clickstream")
    parser.add_argument("--group", default="bench-quix")
    parser.add_argument("--count", type=int, required=True, help="records in the topic")
    parser.add_argument("--product-events", type=int, required=True, help="views + add-to-carts")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--commit-interval", type=float, default=5.0)
    args = parser.parse_args()
    app, progress = build(args)
    app.run()
    if progress["end"] is None or progress["first"] is None:
        raise SystemExit(
            f"quix stopped early: {progress['inputs']}/{args.count} inputs, "
            f"{progress['products']}/{args.product_events} product events"
        )
    seconds = progress["end"] - progress["first"]
    result = {
        "events": progress["inputs"],
        "seconds": seconds,
        "rate": progress["inputs"] / seconds,
    }
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
