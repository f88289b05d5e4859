"""Any worker answers: the one that does not own an order forwards the request.

Given two workers of one consumer group sharing the partitions, when orders
spread over all partitions are created, then both workers answer every
``/orders/{id}`` and ``/customers/{id}`` with the same exact body.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.support.kafka_io import eventually, produce
from tests.support.shop_events import ShopScript
from tests.support.worker_process import WorkerProcess


async def test_both_workers_answer_for_every_order(
    start_worker: Callable[..., WorkerProcess], kafka_bootstrap: str, unique: str
) -> None:
    # Given two workers in one group, each with part of the partitions
    first, second = start_worker("w1"), start_worker("w2")
    first.wait_ready()
    second.wait_ready()

    def split_assignment() -> bool:
        owned = []
        for worker in (first, second):
            status, body = worker.get("/ready")
            orders = [tp for tp in body.get("assigned_partitions", []) if tp.startswith("orders:")]
            owned.append(status == 200 and bool(orders))
        return all(owned)

    await eventually(split_assignment, timeout=60)

    # When twelve orders are created (their keys spread over the partitions)
    script = ShopScript(unique)
    records = [script.created(f"o{n}", customer=f"{unique}-c{n % 3}") for n in range(12)]
    await produce(kafka_bootstrap, [*records, script.payment("o0", "authorized")])

    # Then both workers give the same answer for every order, whoever owns it
    # (order o0 is checked once it is paid: its status moves while we ask)
    for _topic, order_id, _value in records[1:]:
        answers = [
            w.get(f"/orders/{order_id}?wait_for=CREATED&timeout=60") for w in (first, second)
        ]
        assert answers[0][0] == answers[1][0] == 200, answers
        assert answers[0][1] == answers[1][1]
    paid = [w.get(f"/orders/{unique}-o0?wait_for=PAID&timeout=60") for w in (first, second)]
    assert paid[0] == paid[1] and paid[0][1]["status"] == "PAID"

    def customers_agree() -> bool:
        bodies = [w.get(f"/customers/{unique}-c1") for w in (first, second)]
        return bodies[0] == bodies[1] and bodies[0][0] == 200 and bodies[0][1]["orders"] == 4

    await eventually(customers_agree, timeout=60)
