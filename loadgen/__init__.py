"""ShopStream's load generator (``shopstream simulate``).

Simulated shoppers browse, buy, pay, get their parcels, cancel and ask for
refunds, producing DESIGN.md events on ``orders``, ``payments``, ``shipments``
and ``clickstream``, optionally with duplicates, late (out-of-order) events
and poison records mixed in, so the stream processors meet what production
throws at them.

* :func:`generate_events` is pure: same options (with ``start_time`` set),
  same records, byte for byte; usable without Kafka, e.g. with
  :func:`write_jsonl` to record a replayable event log.
* :func:`run_simulation` produces to Kafka at a rate, with a progress bar and
  a :class:`SimulationReport` at the end.

Counting: ``count`` bounds all records (faults included); ``duration`` bounds
``duration * rate`` records and the wall time of a Kafka run. Event time is
the wall clock at production, or, with ``start_time``, ``start_time + n/rate``
for the n-th valid event (1 ms steps when ``rate == 0``).
"""

from loadgen.events import KINDS, REQUIRED_FIELDS, TOPIC_OF_TYPE, EventKind, SimEvent
from loadgen.faults import MALFORMED_VARIANTS, inject_faults
from loadgen.options import SimulationOptions, parse_brokers
from loadgen.producer import (
    SimulationReport,
    TokenBucket,
    read_jsonl,
    run_simulation,
    write_jsonl,
)
from loadgen.shoppers import build_catalogue, customer_currency, generate_events, valid_events

__all__ = [
    "KINDS",
    "MALFORMED_VARIANTS",
    "REQUIRED_FIELDS",
    "TOPIC_OF_TYPE",
    "EventKind",
    "SimEvent",
    "SimulationOptions",
    "SimulationReport",
    "TokenBucket",
    "build_catalogue",
    "customer_currency",
    "generate_events",
    "inject_faults",
    "parse_brokers",
    "read_jsonl",
    "run_simulation",
    "valid_events",
    "write_jsonl",
]
