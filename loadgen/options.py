"""What one simulation run does, checked once before anything is generated.

A frozen dataclass so that a run is fully described by its options: the same
options (with a fixed ``start_time``) give the same records, byte for byte.
Every check raises a one-line :class:`ValueError` naming the option, so the
``shopstream simulate`` command can print it as it is.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["DEFAULT_BROKERS", "SimulationOptions", "parse_brokers"]

DEFAULT_BROKERS = "localhost:9092"
_DEFAULT_PORT = 9092
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)$")


def _fresh_seed() -> int:
    """A random seed by default, so two live runs do not reuse each other's ids."""
    return secrets.randbelow(2**31)


def parse_brokers(brokers: str) -> list[str]:
    """Turn a bootstrap string into aiokafka's ``host:port`` list.

    Accepts what operators already have: Faust URLs (``kafka://h1:9092;h2``),
    plain ``host:port`` lists separated by ``,`` or ``;``; a missing port
    means 9092, as in Faust.
    """
    servers: list[str] = []
    for raw in re.split(r"[;,]", brokers):
        part = _SCHEME.sub("", raw.strip()).rstrip("/")
        if not part:
            continue
        if part.startswith("["):  # IPv6 literal: [::1]:9092
            host, _, rest = part.partition("]")
            host, port_text = host + "]", rest.removeprefix(":") if rest else str(_DEFAULT_PORT)
        else:
            host, sep, port_text = part.partition(":")
            port_text = port_text if sep else str(_DEFAULT_PORT)
        if not _HOST.match(host) or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"brokers: {raw.strip()!r} is not host:port")
        servers.append(f"{host}:{int(port_text)}")
    if not servers:
        raise ValueError(f"brokers must name at least one host:port, got {brokers!r}")
    return servers


def _fraction(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a fraction between 0 and 1, got {value!r}")
    return float(value)


def _positive_int(name: str, value: object, *, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise ValueError(f"{name} must be a whole number from 1 to {maximum}, got {value!r}")


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    """Options of ``shopstream simulate``; see the package docstring for semantics.

    At least one of ``duration`` (seconds) and ``count`` (records, faults
    included) must be set: a load generator that never stops is a footgun.
    """

    rate: float = 100.0
    duration: float | None = None
    count: int | None = None
    seed: int = field(default_factory=_fresh_seed)
    fraction_duplicates: float = 0.0
    fraction_out_of_order: float = 0.0
    fraction_malformed: float = 0.0
    brokers: str = DEFAULT_BROKERS
    jsonl_path: Path | None = None
    start_time: datetime | None = None
    progress: bool = False
    #: Shopper sessions in flight at once; more spreads one session's events further apart.
    concurrency: int = 64
    #: Size of the (stable, seed-independent) customer population.
    customers: int = 2000
    #: Size of the (stable, seed-independent) product catalogue.
    products: int = 300
    #: Prepended to every topic name when producing (isolates test runs); "" in production.
    topic_prefix: str = ""
    #: Share of the valid events sent in the Confluent wire format (needs ``schema_ids``).
    framed_share: float = 0.0
    #: Input topic -> schema id of its subject, for the framed events.
    schema_ids: Mapping[str, int] | None = None

    def __post_init__(self) -> None:
        rate = self.rate
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate):
            raise ValueError(f"rate must be a finite number of events per second, got {rate!r}")
        if rate < 0:
            raise ValueError(f"rate must be >= 0 (0 = as fast as possible), got {rate!r}")
        object.__setattr__(self, "rate", float(rate))
        if self.duration is None and self.count is None:
            raise ValueError("duration or count must be set (a run needs a bound)")
        if self.duration is not None:
            d = self.duration
            if isinstance(d, bool) or not isinstance(d, int | float) or not 0 < d < math.inf:
                raise ValueError(f"duration must be a positive number of seconds, got {d!r}")
        if self.count is not None:
            _positive_int("count", self.count, maximum=10**12)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, got {self.seed!r}")
        dup = _fraction("fraction_duplicates", self.fraction_duplicates)
        bad = _fraction("fraction_malformed", self.fraction_malformed)
        late = _fraction("fraction_out_of_order", self.fraction_out_of_order)
        if dup + bad >= 1:
            raise ValueError(
                "fraction_duplicates + fraction_malformed must be < 1 "
                f"(room for valid events), got {dup} + {bad}"
            )
        if late >= 1:
            raise ValueError(f"fraction_out_of_order must be < 1, got {late}")
        object.__setattr__(self, "fraction_duplicates", dup)
        object.__setattr__(self, "fraction_malformed", bad)
        object.__setattr__(self, "fraction_out_of_order", late)
        if not isinstance(self.brokers, str):
            raise ValueError(f"brokers must be a string, got {self.brokers!r}")
        parse_brokers(self.brokers)
        if self.jsonl_path is not None:
            if not isinstance(self.jsonl_path, str | Path) or not str(self.jsonl_path):
                raise ValueError(f"jsonl_path must be a file path, got {self.jsonl_path!r}")
            object.__setattr__(self, "jsonl_path", Path(self.jsonl_path))
        if self.start_time is not None:
            if not isinstance(self.start_time, datetime) or self.start_time.tzinfo is None:
                raise ValueError(
                    f"start_time must be a timezone-aware datetime, got {self.start_time!r}"
                )
            object.__setattr__(self, "start_time", self.start_time.astimezone(UTC))
        if not isinstance(self.progress, bool):
            raise ValueError(f"progress must be true or false, got {self.progress!r}")
        _positive_int("concurrency", self.concurrency, maximum=1_000_000)
        _positive_int("customers", self.customers, maximum=10_000_000)
        _positive_int("products", self.products, maximum=1_000_000)
        share = _fraction("framed_share", self.framed_share)
        object.__setattr__(self, "framed_share", share)
        if share > 0 and not self.schema_ids:
            raise ValueError("framed_share needs the schema ids of the input topics (a registry)")
        if not isinstance(self.topic_prefix, str) or not re.fullmatch(
            r"[A-Za-z0-9._-]*", self.topic_prefix
        ):
            raise ValueError(
                f"topic_prefix may only hold [A-Za-z0-9._-], got {self.topic_prefix!r}"
            )

    @property
    def bootstrap_servers(self) -> list[str]:
        """``brokers`` as aiokafka wants it."""
        return parse_brokers(self.brokers)

    @property
    def max_events(self) -> int | None:
        """How many records the generator yields; ``None`` when only wall time bounds the run.

        ``duration`` bounds the record count only when there is a rate to
        convert it with; with ``rate == 0`` it is enforced by the producer's clock.
        """
        bounds = [] if self.count is None else [self.count]
        if self.duration is not None and self.rate > 0:
            bounds.append(max(1, math.ceil(self.duration * self.rate)))
        return min(bounds) if bounds else None

    @property
    def seconds_per_event(self) -> float:
        """Step of simulated event time per valid event (1 ms when ``rate == 0``)."""
        return 1.0 / self.rate if self.rate > 0 else 0.001
