"""The one settings object: every environment variable ShopStream reads, in one place.

DESIGN.md fixes four variables (``KAFKA_BROKER``, ``SHOPSTREAM_DATADIR``,
``SHOPSTREAM_WEB_PORT``, ``SHOPSTREAM_PARTITIONS``); the rest tune behaviour and
all have defaults that work on a laptop. A wrong value raises
:class:`SettingsError` whose message is one line naming the variable, so the
command line can print it and stop instead of dumping a traceback.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

__all__ = ["Settings", "SettingsError", "load_settings"]

T = TypeVar("T")

_HOST_PORT = re.compile(r"^[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")


class SettingsError(ValueError):
    """A configuration value that cannot work; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Typed, validated configuration of one ShopStream process."""

    #: Faust broker URL (``kafka://h1:9092;h2:9092``); None means "use the local embedded broker".
    kafka_broker: str | None = None
    #: Root of the worker's local state (RocksDB tables live below it).
    datadir: Path = Path("data")
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    #: Host other workers use to reach this one (table_route forwarding); default: web_host.
    canonical_host: str | None = None
    #: Partition count of every topic ShopStream creates (input topics must agree).
    partitions: int = 4
    #: Replication factor of the topics ShopStream creates (3 on a three-broker cluster).
    replication_factor: int = 1
    #: Faust application id: the consumer group and the prefix of internal topics.
    app_id: str = "shopstream"
    #: Kafka static membership (KIP-345, ``group.instance.id``): a worker restarted with the
    #: same id (and the same canonical URL) takes its old place at once, without waiting for
    #: its session to time out and without a rebalance; None: dynamic membership.
    instance_id: str | None = None
    #: Warm copies of table partitions on other workers, for fast takeover.
    standby_replicas: int = 1
    #: Seconds the start-up check waits for the broker to answer a metadata request.
    broker_timeout: float = 20.0
    #: Fraud velocity: more than this many orders by one customer in a sliding hour is held.
    fraud_max_orders_per_hour: int = 10
    #: Fraud velocity: more than this amount (one currency) by one customer in a sliding hour.
    fraud_max_amount_per_hour: Decimal = Decimal("5000.00")
    #: Optional webhook called for each order status change; None disables it.
    webhook_url: str | None = None
    webhook_max_attempts: int = 5
    #: Delay of the first webhook retry; each further retry waits 4x longer.
    webhook_retry_base_seconds: float = 1.0
    #: Events that wait for a prerequisite longer than this (hours) are dead-lettered.
    pending_max_wait_hours: float = 24.0
    #: Analytics: an event more than this many seconds behind its partition's event time is late.
    late_grace_seconds: int = 600
    log_level: str = "info"
    #: Shared secret of the workers of one group: worker-to-worker paths (``/internal/...``,
    #: Faust's ``/router/...``) require it; a worker listening beyond loopback must have one.
    cluster_token: str | None = None
    #: Dashboard event-stream clients served at once; more are answered 503 with Retry-After.
    max_sse_clients: int = 1000
    #: ``/orders/{id}?wait_for=...`` waits held at once; more are answered 503 with Retry-After.
    max_long_polls: int = 2000
    #: Ordinary requests handled at once; more wait their turn (agents keep their CPU share).
    max_concurrent_requests: int = 32
    #: Confluent-compatible Schema Registry REST API (Apicurio: ``.../apis/ccompat/v7``);
    #: None: no registry (framed input is decoded, its schema id not checked).
    schema_registry_url: str | None = None
    #: ``json`` (plain) or ``confluent-json`` (the Confluent wire format) for output values.
    output_format: str = "json"

    def checked(self) -> Settings:
        """Refuse combinations of values that cannot work together."""
        if self.output_format == "confluent-json" and self.schema_registry_url is None:
            raise SettingsError(
                "SHOPSTREAM_OUTPUT_FORMAT=confluent-json needs SCHEMA_REGISTRY_URL: "
                "framed values carry the registry's schema id"
            )
        return self

    @property
    def listens_beyond_loopback(self) -> bool:
        """Whether the web server can be reached from other machines."""
        return not _is_loopback(self.web_host)

    def check_exposure(self) -> None:
        """Refuse a worker that listens beyond loopback without a cluster token."""
        if self.listens_beyond_loopback and self.cluster_token is None:
            raise SettingsError(
                f"SHOPSTREAM_CLUSTER_TOKEN must be set when the web server listens beyond "
                f"loopback (SHOPSTREAM_WEB_HOST={self.web_host}): worker-to-worker paths need it"
            )

    @property
    def canonical_url(self) -> str:
        """The URL this worker advertises to its group for request forwarding."""
        host = self.canonical_host or self.web_host
        if host in ("0.0.0.0", "::"):
            host = socket.gethostname()
        return f"http://{host}:{self.web_port}"

    @property
    def broker_bootstrap(self) -> str:
        """``host:port,host:port`` for plain aiokafka clients (load generator, tools)."""
        if self.kafka_broker is None:
            raise SettingsError("KAFKA_BROKER is not set and no local broker was resolved")
        return broker_url_to_bootstrap(self.kafka_broker)


def broker_url_to_bootstrap(url: str) -> str:
    """Turn ``kafka://h1:1;h2:2`` (Faust's form) into ``h1:1,h2:2`` (aiokafka's form)."""
    hosts = []
    for part in re.split(r"[;,]", url):
        part = part.strip()
        if not part:
            continue
        if "://" in part:
            part = urlsplit(part).netloc
        hosts.append(part)
    return ",".join(hosts)


def _parse_broker(raw: str) -> str:
    hosts = [p.strip() for p in re.split(r"[;,]", raw) if p.strip()]
    if not hosts:
        raise ValueError("must name at least one broker, e.g. kafka://localhost:9092")
    normalized = []
    for host in hosts:
        scheme, sep, rest = host.partition("://")
        if not sep:
            scheme, rest = "kafka", host
        if scheme != "kafka":
            raise ValueError(f"scheme must be kafka://, got {scheme}://")
        if not _HOST_PORT.match(rest):
            raise ValueError(f"expected host:port, got {rest!r}")
        port = int(rest.rsplit(":", 1)[1])
        if not 1 <= port <= 65535:
            raise ValueError(f"port out of range in {rest!r}")
        normalized.append(rest)
    return "kafka://" + ";".join(normalized)


def _int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"must be a whole number from {low} to {high}") from None
        if not low <= value <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return value

    return parse


def _positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("must be a positive number") from None
    if not value > 0:
        raise ValueError("must be a positive number")
    return value


def _positive_decimal(raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError("must be a positive decimal amount such as 5000.00") from None
    if not value.is_finite() or value <= 0:
        raise ValueError("must be a positive decimal amount such as 5000.00")
    return value


def _http_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL")
    return raw


def _app_id(raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}", raw):
        raise ValueError("must be letters, digits, '.', '_' or '-'")
    return raw


def _instance_id(raw: str) -> str:
    """Kafka's rule for ``group.instance.id`` (that of topic names), checked before the broker."""
    if not re.fullmatch(r"[A-Za-z0-9._\-]{1,249}", raw) or raw in (".", ".."):
        raise ValueError("must be 1 to 249 letters, digits, '.', '_' or '-', unique per worker")
    return raw


def _log_level(raw: str) -> str:
    level = raw.lower()
    if level not in ("debug", "info", "warning", "error", "critical"):
        raise ValueError("must be one of debug, info, warning, error, critical")
    return level


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost may resolve to anything
        return False


def _cluster_token(raw: str) -> str:
    if not re.fullmatch(r"[\x21-\x7e]{16,256}", raw):
        raise ValueError("must be 16 to 256 printable ASCII characters without spaces")
    return raw


def _registry_url(raw: str) -> str:
    url = _http_url(raw).rstrip("/")
    if urlsplit(url).query or urlsplit(url).fragment:
        raise ValueError("must be the registry's base URL, without a query or fragment")
    return url


def _output_format(raw: str) -> str:
    if raw not in ("json", "confluent-json"):
        raise ValueError("must be json or confluent-json")
    return raw


def _read(env: Mapping[str, str], name: str, parse: Callable[[str], T], default: T) -> T:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return parse(raw.strip())
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r}: {exc}") from None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the environment; raises SettingsError on the first bad value."""
    env = os.environ if env is None else env
    defaults = Settings()
    return Settings(
        kafka_broker=_read(env, "KAFKA_BROKER", _parse_broker, None),
        datadir=_read(env, "SHOPSTREAM_DATADIR", Path, defaults.datadir),
        web_host=_read(env, "SHOPSTREAM_WEB_HOST", str, defaults.web_host),
        web_port=_read(env, "SHOPSTREAM_WEB_PORT", _int_between(1, 65535), defaults.web_port),
        canonical_host=_read(env, "SHOPSTREAM_CANONICAL_HOST", str, None),
        partitions=_read(env, "SHOPSTREAM_PARTITIONS", _int_between(1, 1024), defaults.partitions),
        replication_factor=_read(
            env, "SHOPSTREAM_REPLICATION_FACTOR", _int_between(1, 16), defaults.replication_factor
        ),
        app_id=_read(env, "SHOPSTREAM_APP_ID", _app_id, defaults.app_id),
        instance_id=_read(env, "SHOPSTREAM_INSTANCE_ID", _instance_id, None),
        standby_replicas=_read(
            env, "SHOPSTREAM_STANDBY_REPLICAS", _int_between(0, 8), defaults.standby_replicas
        ),
        broker_timeout=_read(
            env, "SHOPSTREAM_BROKER_TIMEOUT", _positive_float, defaults.broker_timeout
        ),
        fraud_max_orders_per_hour=_read(
            env,
            "SHOPSTREAM_FRAUD_MAX_ORDERS_PER_HOUR",
            _int_between(1, 1_000_000),
            defaults.fraud_max_orders_per_hour,
        ),
        fraud_max_amount_per_hour=_read(
            env,
            "SHOPSTREAM_FRAUD_MAX_AMOUNT_PER_HOUR",
            _positive_decimal,
            defaults.fraud_max_amount_per_hour,
        ),
        webhook_url=_read(env, "SHOPSTREAM_WEBHOOK_URL", _http_url, None),
        webhook_max_attempts=_read(
            env,
            "SHOPSTREAM_WEBHOOK_MAX_ATTEMPTS",
            _int_between(1, 20),
            defaults.webhook_max_attempts,
        ),
        webhook_retry_base_seconds=_read(
            env,
            "SHOPSTREAM_WEBHOOK_RETRY_BASE_SECONDS",
            _positive_float,
            defaults.webhook_retry_base_seconds,
        ),
        pending_max_wait_hours=_read(
            env,
            "SHOPSTREAM_PENDING_MAX_WAIT_HOURS",
            _positive_float,
            defaults.pending_max_wait_hours,
        ),
        late_grace_seconds=_read(
            env,
            "SHOPSTREAM_LATE_GRACE_SECONDS",
            _int_between(0, 86400),
            defaults.late_grace_seconds,
        ),
        log_level=_read(env, "SHOPSTREAM_LOG_LEVEL", _log_level, defaults.log_level),
        cluster_token=_read(env, "SHOPSTREAM_CLUSTER_TOKEN", _cluster_token, None),
        max_sse_clients=_read(
            env, "SHOPSTREAM_MAX_SSE_CLIENTS", _int_between(0, 100_000), defaults.max_sse_clients
        ),
        max_long_polls=_read(
            env, "SHOPSTREAM_MAX_LONG_POLLS", _int_between(0, 100_000), defaults.max_long_polls
        ),
        max_concurrent_requests=_read(
            env,
            "SHOPSTREAM_MAX_CONCURRENT_REQUESTS",
            _int_between(1, 10_000),
            defaults.max_concurrent_requests,
        ),
        schema_registry_url=_read(env, "SCHEMA_REGISTRY_URL", _registry_url, None),
        output_format=_read(
            env, "SHOPSTREAM_OUTPUT_FORMAT", _output_format, defaults.output_format
        ),
    ).checked()
