"""Static membership (``SHOPSTREAM_INSTANCE_ID``): a SIGKILLed worker restarted under its id is back at once.

Given a worker with an instance id (Kafka's ``group.instance.id``, KIP-345)
that has processed some orders, when it is SIGKILLed, more events arrive, and
the same worker is started again (same instance id, data directory and web
port, as a supervisor restarts it), then the broker hands it its partitions
back in the same generation — no rebalance, no wait for the killed member's
10 s session (app/main.py) to expire — it answers for the new events well
before that session would have timed out, and its answers are exactly what
the events say. A lone worker is the group's leader: the broker's cached
assignment for a rejoining leader must work with Faust's assignor too.

Given two workers with distinct instance ids, they split the partitions
(scale-out works as with dynamic membership); when the leader is SIGKILLed and
restarted, it gets its own partitions back and the other keeps its share,
both in the same generation, and both answer every order (``make test-full``:
``make test`` keeps the lone member, which already rejoins a leader in place).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from tests.support.fault_load import record_figure
from tests.support.kafka_io import eventually, produce
from tests.support.shop_events import ShopScript
from tests.support.worker_process import WorkerProcess

#: broker_session_timeout in app/main.py: how long a dynamic member's restart would wait.
SESSION_TIMEOUT = 10.0
_JOINED = re.compile(r"Joined group '[^']+' \(generation (\d+)\)")
_STAMPED = re.compile(r"^\[([0-9-]+ [0-9:]+,\d+)\].*?((?:\(Re-\)joining|Joined) group)", re.M)


def generations(worker: WorkerProcess) -> list[int]:
    """The group generations ``worker`` joined since its last start, from its log."""
    return [int(n) for n in _JOINED.findall(worker.log_since_start())]


def join_waits(worker: WorkerProcess) -> list[float]:
    """Seconds each JoinGroup of ``worker`` since its last start waited for the broker."""
    waits, asked = [], None
    for stamp, what in _STAMPED.findall(worker.log_since_start()):
        at = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
        if what.startswith("(Re-)"):
            asked = at
        elif asked is not None:
            waits.append((at - asked).total_seconds())
    return waits


def leads(worker: WorkerProcess) -> bool:
    """Whether ``worker`` was elected leader when it last joined the group."""
    last_join = worker.log_since_start().rsplit("Joined group", 1)[-1]
    return "Elected group leader" in last_join


def owned_orders_partitions(worker: WorkerProcess) -> set[int] | None:
    """The ``orders`` partitions a ready ``worker`` owns; None while it is not ready."""
    try:
        status, body = worker.get("/ready", timeout=2.0)
    except OSError:
        return None
    if status != 200:
        return None
    return {int(tp.split(":")[1]) for tp in body["assigned_partitions"] if tp.startswith("orders:")}


def order_status(worker: WorkerProcess, order_id: str, status: str) -> bool:
    try:
        answer = worker.get(f"/orders/{order_id}", timeout=2.0)
    except OSError:
        return False
    return answer[0] == 200 and answer[1]["status"] == status


async def test_a_killed_static_member_is_back_at_once_with_exact_answers(
    start_worker: Callable[..., WorkerProcess], kafka_bootstrap: str, unique: str
) -> None:
    # Given a worker with an instance id that has processed five orders
    worker = start_worker("static", SHOPSTREAM_INSTANCE_ID=f"{unique}-0")
    worker.wait_ready()
    script = ShopScript(unique)
    customer = f"{unique}-c"
    before = [script.created(f"o{n}", customer=customer) for n in range(5)]
    await produce(kafka_bootstrap, before)
    for _topic, order_id, _value in before:
        assert worker.get(f"/orders/{order_id}?wait_for=CREATED&timeout=60")[0] == 200
    generation = generations(worker)[-1]

    # When it is SIGKILLed, events arrive meanwhile, and it is started again under its id
    worker.kill()
    killed = time.monotonic()
    after = [script.created(f"o{n}", customer=customer) for n in range(5, 8)]
    paid = [script.payment(f"o{n}", "authorized") for n in range(3)]
    await produce(kafka_bootstrap, [*after, *paid])
    worker.start()

    # Then it is back in the same generation and has processed everything before the
    # killed member's session would have expired
    def processed() -> bool:
        return all(
            order_status(worker, script.order_id(f"o{n}"), "PAID" if n < 3 else "CREATED")
            for n in range(8)
        )

    await eventually(processed, timeout=60, interval=0.1)
    back_after = time.monotonic() - killed
    assert generations(worker) == [generation], "the restart caused a rebalance"
    (join_wait,) = join_waits(worker)
    assert join_wait < 2.0, f"the restarted member waited {join_wait:.1f}s to join"
    assert back_after < SESSION_TIMEOUT, f"processing resumed {back_after:.1f}s after the kill"

    def customer_summary() -> dict[str, Any] | None:  # the customers agent follows
        status, summary = worker.get(f"/customers/{customer}")
        return summary if status == 200 and summary["orders"] == 8 else None

    summary = await eventually(customer_summary, timeout=30, interval=0.1)
    assert summary["revenue"] == {"EUR": "300.00"}
    assert generations(worker) == [generation]
    record_figure(
        "static_membership",
        join_wait_seconds=round(join_wait, 2),
        kill_to_processed_seconds=round(back_after, 1),
        kill_to_customer_correct_seconds=round(time.monotonic() - killed, 1),
    )


@pytest.mark.slow  # make test-full: the lone member's test already rejoins a leader in place
async def test_two_static_members_split_the_partitions_and_the_leader_rejoins_in_place(
    start_worker: Callable[..., WorkerProcess], kafka_bootstrap: str, unique: str
) -> None:
    # Given two workers with distinct instance ids: they share the partitions
    workers = [start_worker(f"w{n}", SHOPSTREAM_INSTANCE_ID=f"{unique}-{n}") for n in range(2)]

    def split() -> list[set[int]] | None:
        shares = [owned_orders_partitions(w) or set() for w in workers]
        return shares if all(shares) and set().union(*shares) == set(range(4)) else None

    shares = await eventually(split, timeout=90)
    assert not shares[0] & shares[1]
    generation = max(generations(workers[0]) + generations(workers[1]))
    (leader,) = [w for w in workers if leads(w)]

    # When the leader is SIGKILLed and started again under its id
    leader.kill()
    killed = time.monotonic()
    leader.start()
    await eventually(lambda: owned_orders_partitions(leader) is not None, timeout=60, interval=0.1)
    record_figure(
        "static_membership", leader_kill_to_ready_seconds=round(time.monotonic() - killed, 1)
    )

    # Then each keeps its share, nobody rebalanced, and both answer every order
    assert [owned_orders_partitions(w) for w in workers] == shares
    assert generations(leader) == [generation]
    script = ShopScript(unique)
    records = [script.created(f"o{n}") for n in range(8)]
    await produce(kafka_bootstrap, records)
    for _topic, order_id, _value in records:
        answers = [w.get(f"/orders/{order_id}?wait_for=CREATED&timeout=60") for w in workers]
        assert answers[0] == answers[1]
        assert answers[0][0] == 200
