"""Speed-up: under live load the worker's consumer fetches every few milliseconds, not per record.

Faust builds the worker's consumer with aiokafka's ``fetch_min_bytes=1`` and
``fetch_max_wait_ms=1500`` (``transport/drivers/aiokafka.py:603-630``, no
setting for either): the broker answers a fetch as soon as one record is
there. Under live load that is a fetch for every few records, and each one
has fixed costs on both of the worker's threads: the consumer thread encodes
a request naming every assigned partition (28 on a 4-partition worker) and
decodes the answer; the main thread takes the hand-over from that thread, and
each route (:mod:`~app.faust_patches.batch_delivery`) a batch with its own
handler call, the order route a produce round trip. At 2,768 events/s (10 %
of the bench mix's maximum) the worker used 72 % of a core, most of it for
those fixed costs, beside a broker that competes for the same two cores.

:func:`install` makes the worker's fetches adapt to the traffic. After a
fetch that brought records, the next one asks the broker to wait until
:data:`FETCH_MIN_BYTES` are there or :data:`FETCH_MAX_WAIT_MS` passed,
whichever comes first: under live load a fetch gathers up to 5 ms of records
(the same window as the producer's linger), and nothing changes for a backlog
(each fetch is megabytes). After a fetch that brought nothing, the next one
is asked as Faust asks (the first record is answered at once, an empty answer
after 1.5 s): an idle worker does not poll every 5 ms (that cost it 10 % of a
core and the broker 14 %, against 2 % and 4 %).

Latency bench, one run each, quiet machine: at 2,768 events/s the worker's
CPU went from 72 % to 44 % of a core, p99 produce -> ``order-status`` 23.3
-> 20.4 ms, p50 8.0 -> 9.1 ms (the wait); at 13,839 events/s 87 -> 83 %.
With the bench's longer warm-up (15 s), one run without, five with: at 2,768
events/s 73 % / 46 % of a core, p99 22.9 / 20.4-23.0 ms; at 13,839/s 84 % /
84 %, p99 63.6 / 57.7-71.6 ms. The gain is the CPU under light load; the tails
are within the spread between runs. 4 KiB instead of 16 KiB (one run): 51 %
of a core, p99 19.1 and 67.3 ms, the same within that spread.

Checked against aiokafka 0.14.0: the fetcher reads ``_fetch_min_bytes`` and
``_fetch_max_wait_ms`` whenever it builds a request
(``Fetcher._get_actions_per_node``), and ``_proc_fetch_request`` returns
whether the answer added records (or an error) to hand out.
"""

from __future__ import annotations

from typing import Any, Final

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

__all__ = ["FETCH_MAX_WAIT_MS", "FETCH_MIN_BYTES", "AdaptiveFetch", "install"]

#: Under live load the broker answers a fetch once this much is there for it ...
FETCH_MIN_BYTES: Final = 16 * 1024
#: ... or once this long has passed, whichever comes first.
FETCH_MAX_WAIT_MS: Final = 5

_original_create_worker_consumer = AIOKafkaConsumerThread._create_worker_consumer


class AdaptiveFetch:
    """A fetcher's ``_proc_fetch_request``, choosing how long the next fetch may wait.

    After an empty fetch the next one is asked as Faust configured the consumer
    (its values when this is made: 1 byte, 1,500 ms).
    """

    def __init__(self, fetcher: Any) -> None:
        self.fetcher = fetcher
        self.proc_fetch_request = fetcher._proc_fetch_request
        self.idle = (fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms)

    async def __call__(self, assignment: Any, node_id: int, request: Any) -> bool:
        brought = bool(await self.proc_fetch_request(assignment, node_id, request))
        fetcher = self.fetcher
        if brought:
            fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms = (
                FETCH_MIN_BYTES,
                FETCH_MAX_WAIT_MS,
            )
        else:
            fetcher._fetch_min_bytes, fetcher._fetch_max_wait_ms = self.idle
        return brought


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
