"""The client comparison's pure parts: the shop event of a given size, the seeds' table."""

from __future__ import annotations

import json

import pytest

from bench.clients.compare import shop_event_of_size
from bench.clients.table import seeds_table
from bench.report import BenchRun, Row
from bench.stats import summarize


@pytest.mark.parametrize("size", [300, 1024])
def test_the_benchmark_message_is_an_order_created_of_exactly_the_size(size: int) -> None:
    value = shop_event_of_size(size)
    assert len(value) == size
    event = json.loads(value)
    assert event["type"] == "order_created"
    assert isinstance(event["total"], str)  # money is a decimal string, also here
    with pytest.raises(ValueError):
        shop_event_of_size(100)


def test_seeds_table_puts_the_medians_beside_the_claims() -> None:
    run = BenchRun(
        machine={"cpu_model": "cpu", "cpu_cores": 2, "load_average": [1.0, 1.0, 1.0]},
        config={"repeats": 3, "client_sizes": [300, 1024], "client_latency_rate": 100.0},
    )
    for metric, values in {
        "produce rate": [9000.0, 10000.0, 11000.0],
        "produce rate, one message per send()": [400.0],
        "consume rate": [60000.0],
        "produce p99 at 100 msg/s": [12.0],
        "peak RSS produce": [100.0],
        "peak RSS consume": [110.0],
    }.items():
        run.add([Row("clients", "kafkajs, 300 B", metric, "x", summarize(values))])
    run.extra["clients"] = {
        "install": {
            "kafkajs": {
                "version": "2.2.4",
                "seconds": 3.4,
                "native_build": False,
                "size_mib": 0.7,
            }
        },
        "latency_rate": 100.0,
    }
    table = seeds_table(run)
    row = next(line for line in table.splitlines() if line.startswith("| kafkajs"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:9] == [
        "kafkajs",
        "2.2.4",
        "pure JavaScript",
        "easy setup",
        "3.40",
        "no",
        "0.700",
        "moderate speed",
        "10,000 / - (1,000 per send()); 400 / - (one per send())",
    ]
    assert cells[9:] == ["60,000 / -", "12.0 / -", "100 / 110"]
    assert "node-rdkafka" not in table  # not installed, not shown
