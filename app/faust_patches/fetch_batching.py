"""Speed-up: under live load the worker's consumer fetches every millisecond or so, not per record.

Faust builds the worker's consumer with aiokafka's ``fetch_min_bytes=1`` and
``fetch_max_wait_ms=1500`` (``transport/drivers/aiokafka.py:603-630``, no
setting for either): the broker answers a fetch as soon as one record is
there. Under live load that is a fetch for every few records, and each one
has fixed costs: encoding a request naming every assigned partition (28 on a
4-partition worker) and decoding the answer, then each route
(:mod:`~app.faust_patches.batch_delivery`) a batch with its own handler
call, the order route a produce round trip. At 2,768 events/s (10 % of the
bench mix's maximum) the worker used 72 % of a core, most of it for those
fixed costs, beside a broker that competes for the same two cores.

:func:`install` makes the worker's fetches adapt to the traffic. After a
fetch that brought records, the next one asks the broker to wait until
:data:`FETCH_MIN_BYTES` are there or :data:`FETCH_MAX_WAIT_MS` passed,
whichever comes first: under live load a fetch gathers up to a millisecond
of records, and nothing changes for a backlog (each fetch is megabytes).
After a fetch that brought nothing, the next one is asked as Faust asks (the
first record is answered at once, an empty answer after 1.5 s): an idle
worker does not poll every few milliseconds (every 5 ms cost it 10 % of a
core and the broker 14 %, against 2 % and 4 %).

The wait was 5 ms while the consumer ran in a thread of its own, where every
fetch also crossed threads twice: at 2,768 events/s the worker's CPU went
from 72 % to 44-46 % of a core, and the tails moved within the spread between
runs. Once the consumer ran on the worker's loop
(:mod:`~app.faust_patches.inline_consumer`) a fetch cost less, and the wait
was most of the latency left under light load. Latency bench, one run each,
the same hour, p50 / p99 produce -> ``order-status`` at 2,934 / 14,670 events/s:
5 ms 11.0 / 22.4 and 20.8 / 69.5 ms; 2 ms 7.6 / 18.9 and 16.1 / 52.6 ms; 1 ms
6.0 / 17.0 and 16.0 / 50.8 ms, the worker at 44 %, 55 % and 57 % of a core at
the lighter load.

A fetch that brought only a few records (less than :data:`SPARSE_BYTES`) is
followed by Faust's long poll too: records that arrive that sparsely are
answered at the first one anyway, and the millisecond's wait only added an
empty fetch to most of them. At 150 events/s a worker made about 230 fetches a
second, 40 % of them empty, each a request naming every assigned partition and
its answer, at about 2 ms of CPU per fetch cycle on a slow 2-core host: half a
core for a trickle.
What a long poll costs is what it cost after an empty fetch, and what Faust's
stock consumer pays at every fetch: a partition resumed while it is in flight
(flow control, the end of a recovery) is fetched once it returns, at the next
record of any other partition or after 1.5 s.

Checked against aiokafka 0.14.0: the fetcher reads ``_fetch_min_bytes`` and
``_fetch_max_wait_ms`` whenever it builds a request
(``Fetcher._get_actions_per_node``), ``_proc_fetch_request`` returns
whether the answer added records (or an error) to hand out, and it stores a
partition's records as ``_records[tp]``, a ``FetchResult`` whose
``_partition_records._records`` holds the fetched bytes.
"""

from __future__ import annotations

from typing import Any, Final

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

__all__ = ["FETCH_MAX_WAIT_MS", "FETCH_MIN_BYTES", "SPARSE_BYTES", "AdaptiveFetch", "install"]

#: Under live load the broker answers a fetch once this much is there for it ...
FETCH_MIN_BYTES: Final = 16 * 1024
#: ... or once this long has passed, whichever comes first.
FETCH_MAX_WAIT_MS: Final = 1
#: A fetch that brought less than this (a record or two) is followed by a long poll.
SPARSE_BYTES: Final = 1024

_original_create_worker_consumer = AIOKafkaConsumerThread._create_worker_consumer


class AdaptiveFetch:
    """A fetcher's ``_proc_fetch_request``, choosing how long the next fetch may wait.

    After an empty or a sparse fetch the next one is asked as Faust configured the
    consumer (its values when this is made: 1 byte, 1,500 ms).
    """

    def __init__(self, fetcher: Any) -> None:
        self.fetcher = fetcher
        self.proc_fetch_request = fetcher._proc_fetch_request
        self.idle = (fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms)

    async def __call__(self, assignment: Any, node_id: int, request: Any) -> bool:
        fetcher = self.fetcher
        held = dict(fetcher._records)  # what earlier fetches brought and is not taken yet
        brought = bool(await self.proc_fetch_request(assignment, node_id, request))
        if brought and _fetched_bytes(fetcher._records, held) >= SPARSE_BYTES:
            fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms = (
                FETCH_MIN_BYTES,
                FETCH_MAX_WAIT_MS,
            )
        else:
            fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms = self.idle
        return brought


def _fetched_bytes(records: dict[Any, Any], held: dict[Any, Any]) -> int:
    """Bytes of the records a fetch added to the fetcher's ``_records`` (``held``: before it)."""
    total = 0
    for tp, result in records.items():
        if held.get(tp) is not result:
            partition_records = getattr(result, "_partition_records", None)
            if partition_records is not None:  # None: an error stored for the partition
                total += partition_records._records.size_in_bytes()
    return total


def _create_worker_consumer(self: AIOKafkaConsumerThread, transport: Any) -> Any:
    """Faust's worker consumer, whose fetcher (made when it starts) adapts its fetches."""
    consumer = _original_create_worker_consumer(self, transport)
    start = consumer.start

    async def start_adaptive() -> None:
        await start()
        fetcher = consumer._fetcher
        fetcher._proc_fetch_request = AdaptiveFetch(fetcher)

    consumer.start = start_adaptive
    return consumer


def install() -> None:
    """Replace ``AIOKafkaConsumerThread._create_worker_consumer`` (idempotent)."""
    if AIOKafkaConsumerThread._create_worker_consumer is not _create_worker_consumer:
        AIOKafkaConsumerThread._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]
