"""Sending the generated records: Kafka, JSONL files, rate limiting, progress.

The generator is pulled lazily, one record per token of the rate limiter, so
that live event times are the time of production. Sends are not awaited one
by one (that would cap the rate at one round trip per record): their futures
are gathered a chunk at a time, with one chunk in flight while the next fills.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

import orjson
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from loadgen.events import KINDS, SimEvent
from loadgen.framing import frame_share
from loadgen.options import SimulationOptions
from loadgen.shoppers import generate_events

__all__ = [
    "SimulationReport",
    "TokenBucket",
    "read_jsonl",
    "run_simulation",
    "write_jsonl",
]

_CHUNK = 2000
_MAX_UNACKED_SECONDS = 1.0
_PROGRESS_EVERY = 0.2


class TokenBucket:
    """A token bucket on the monotonic clock, allowed to go into debt.

    :meth:`reserve` takes tokens at once and says how long the caller should
    wait; sleeping only when that wait is worth a timer (``min_sleep``) keeps
    high rates exact on average even though event-loop timers tick in
    milliseconds. ``burst`` bounds catch-up after a stall to 50 ms of events.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0 for a token bucket, got {rate!r}")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate * 0.05)
        self._clock = clock
        self._tokens = self.burst
        self._last = clock()

    def reserve(self, tokens: float = 1.0) -> float:
        """Take ``tokens`` now; return the seconds until they are really available."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate) - tokens
        self._last = now
        return -self._tokens / self.rate if self._tokens < 0 else 0.0

    async def acquire(self, tokens: float = 1.0, *, min_sleep: float = 0.002) -> None:
        """Wait until ``tokens`` may be spent (small waits are carried as debt)."""
        wait = self.reserve(tokens)
        if wait >= min_sleep:
            await asyncio.sleep(wait)


@dataclass(frozen=True, slots=True)
class SimulationReport:
    """What a run sent: counts per topic and per kind, and how fast."""

    total: int
    per_topic: Mapping[str, int]
    per_kind: Mapping[str, int]
    elapsed_seconds: float
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def achieved_rate(self) -> float:
        """Records per second over the whole run."""
        return self.total / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, e.g. for ``--json`` output of the CLI."""
        return {
            "total": self.total,
            "per_topic": dict(self.per_topic),
            "per_kind": dict(self.per_kind),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "achieved_rate": round(self.achieved_rate, 1),
            **self.extra,
        }

    def summary(self) -> str:
        """A few human lines for the end of ``shopstream simulate``."""
        topics = ", ".join(f"{t}={n}" for t, n in sorted(self.per_topic.items()))
        kinds = ", ".join(f"{k}={self.per_kind.get(k, 0)}" for k in KINDS)
        return (
            f"sent {self.total} records in {self.elapsed_seconds:.2f}s "
            f"({self.achieved_rate:.0f}/s)\n  topics: {topics or '-'}\n  kinds:  {kinds}"
        )


class _Tally:
    """Running counts for the report and the progress bar."""

    def __init__(self) -> None:
        self.topics: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.total = 0
        self.started = time.monotonic()

    def add(self, event: SimEvent) -> None:
        self.topics[event.topic] += 1
        self.kinds[event.kind] += 1
        self.total += 1

    def report(self, **extra: Any) -> SimulationReport:
        elapsed = time.monotonic() - self.started
        return SimulationReport(self.total, dict(self.topics), dict(self.kinds), elapsed, extra)


def _jsonl_line(event: SimEvent) -> bytes:
    """One JSONL record; ``value`` is the decoded JSON if the bytes are JSON, else null."""
    if event.kind == "malformed":
        try:
            orjson.loads(event.value)
            raw = event.value
        except orjson.JSONDecodeError:
            raw = b"null"
    elif event.value[:1] == b"\x00":
        raw = event.value[5:]  # framed: the JSON after the header (value_b64 keeps it all)
    else:
        raw = event.value  # our own orjson output: valid JSON, embedded as is
    return b"".join(
        (
            b'{"topic":',
            orjson.dumps(event.topic),
            b',"key":',
            orjson.dumps(event.key),
            b',"value":',
            raw,
            b',"value_b64":"',
            base64.b64encode(event.value),
            b'","kind":"',
            event.kind.encode(),
            b'"}\n',
        )
    )


def write_jsonl(events: Iterable[SimEvent], path: str | Path) -> SimulationReport:
    """Record ``events`` to a JSONL file (no Kafka); ``read_jsonl`` gives them back exactly."""
    tally = _Tally()
    with open(path, "wb") as out:
        for event in events:
            out.write(_jsonl_line(event))
            tally.add(event)
    return tally.report(jsonl_path=str(path))


def read_jsonl(path: str | Path) -> Iterator[SimEvent]:
    """Replay a recorded file; the bytes come from ``value_b64``, so poison survives."""
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
                kind = record["kind"]
                if kind not in KINDS:
                    raise ValueError(f"unknown kind {kind!r}")
                value = base64.b64decode(record["value_b64"], validate=True)
                yield SimEvent(str(record["topic"]), str(record["key"]), value, kind)
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a loadgen record: {exc}") from None


class _Progress:
    """A rich progress bar on stderr, refreshed a few times per second at most."""

    def __init__(self, stack: ExitStack, total: int | None) -> None:
        self._bar = stack.enter_context(
            Progress(
                TextColumn("[bold]simulate"),
                BarColumn(bar_width=20),
                TextColumn("{task.completed}" + (f"/{total}" if total else "") + " events"),
                TextColumn("{task.fields[rate]:>8.0f} ev/s"),
                TimeElapsedColumn(),
                TextColumn("{task.fields[topics]}"),
                console=Console(stderr=True),
                transient=False,
            )
        )
        self._task = self._bar.add_task("simulate", total=total, rate=0.0, topics="")
        self._next = 0.0

    def update(self, tally: _Tally, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now < self._next:
            return
        self._next = now + _PROGRESS_EVERY
        elapsed = max(now - tally.started, 1e-9)
        topics = " ".join(f"{t}={n}" for t, n in sorted(tally.topics.items()))
        self._bar.update(
            self._task, completed=tally.total, rate=tally.total / elapsed, topics=topics
        )


async def run_simulation(
    options: SimulationOptions, *, events: Iterable[SimEvent] | None = None
) -> SimulationReport:
    """Produce a run to Kafka (``acks=all``, idempotent) and return what was sent.

    ``events`` replaces the generator (e.g. a recorded file from
    :func:`read_jsonl`); the options still give brokers, rate, bounds and
    outputs. Stops at the generator's end, after ``options.max_events``
    records, or after ``duration`` wall seconds, whichever comes first.
    """
    from aiokafka import AIOKafkaProducer  # looked up per call: tests substitute a fake

    source = generate_events(options) if events is None else iter(events)
    if events is not None and options.max_events is not None:
        source = islice(source, options.max_events)
    if options.framed_share > 0 and options.schema_ids:
        source = frame_share(
            source, share=options.framed_share, schema_ids=options.schema_ids, seed=options.seed
        )
    bucket = TokenBucket(options.rate) if options.rate > 0 else None
    producer = AIOKafkaProducer(
        bootstrap_servers=options.bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=256 * 1024,
        client_id="shopstream-loadgen",
    )
    await producer.start()
    tally = _Tally()
    pending: list[asyncio.Future[Any]] = []
    inflight: asyncio.Future[Any] | None = None
    last_flush = time.monotonic()
    prefix = options.topic_prefix
    with ExitStack() as stack:
        jsonl: IO[bytes] | None = None
        if options.jsonl_path is not None:
            jsonl = stack.enter_context(open(options.jsonl_path, "wb"))
        progress = _Progress(stack, options.max_events) if options.progress else None
        deadline = None if options.duration is None else tally.started + options.duration
        try:
            for event in source:
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    break
                if bucket is not None:
                    await bucket.acquire()
                value, key = event.value, event.key.encode()
                pending.append(await producer.send(prefix + event.topic, value, key=key))
                if jsonl is not None:
                    jsonl.write(_jsonl_line(event))
                tally.add(event)
                if len(pending) >= _CHUNK or now - last_flush >= _MAX_UNACKED_SECONDS:
                    if inflight is not None:
                        await inflight  # surfaces a failed send within a chunk or two
                    inflight, pending, last_flush = asyncio.gather(*pending), [], now
                    await asyncio.sleep(0)  # let the sender task and others run
                if progress is not None:
                    progress.update(tally)
            if inflight is not None:
                await inflight
            await asyncio.gather(*pending)
            await producer.flush()
        finally:
            if progress is not None:
                progress.update(tally, force=True)
            for future in [*pending, *([inflight] if inflight else [])]:
                future.cancel()
            await producer.stop()
    return tally.report(seed=options.seed)
