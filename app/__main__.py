"""``shopstream``: Faust's command line bound to the ShopStream App.

``shopstream worker`` starts a worker; project commands (``kafka``,
``simulate``, ``dlq``) sit beside Faust's own. Before anything imports the App,
the settings are validated and, for commands that talk to Kafka, the broker is
resolved and checked, so a wrong value or an unreachable broker ends with one
line on stderr instead of a traceback or a silent hang.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from collections.abc import Sequence

from app.settings import SettingsError, load_settings

__all__ = ["main"]

#: The event loop Faust runs on unless ``FAUST_LOOP`` or ``-L/--loop`` names another (``aio``:
#: asyncio's). ``import faust`` reads it, so it is set before anything imports Faust.
#: uvloop: a do-nothing agent 4,131 -> 5,261 events/s (issue 11).
DEFAULT_LOOP = "uvloop"
#: Commands that need a broker before they start; others (help, kafka) do not.
BROKER_COMMANDS = frozenset({"worker", "simulate", "dlq", "send", "replay"})
#: Commands that also create the contract topics and check co-partitioning.
PREFLIGHT_COMMANDS = frozenset({"worker"})


def _fail(message: str) -> None:
    print(f"shopstream: {message}", file=sys.stderr)
    raise SystemExit(2)


#: Faust's global options that take a value (``shopstream -L uvloop worker``).
_VALUED_OPTIONS = frozenset(
    {
        "-A",
        "--app",
        "--datadir",
        "-W",
        "--workdir",
        "-L",
        "--loop",
        "-l",
        "--loglevel",
        "-f",
        "--logfile",
        "--blocking-timeout",
        "--console-port",
    }
)


def _command(argv: Sequence[str]) -> str | None:
    """The sub-command named on the command line (first word that is not an option)."""
    words = iter(argv)
    for word in words:
        if word in _VALUED_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _prepare_broker(command: str) -> None:
    """Resolve KAFKA_BROKER (local embedded broker when unset) and run the preflight."""
    from app.kafka.local_broker import LocalBrokerError, ensure_local_broker
    from app.kafka.preflight import PreflightError, run_preflight
    from app.settings import broker_url_to_bootstrap

    settings = load_settings()
    if settings.kafka_broker is None:
        try:
            os.environ["KAFKA_BROKER"] = ensure_local_broker(settings)
        except LocalBrokerError as exc:
            _fail(str(exc))
        settings = load_settings()
    if command in PREFLIGHT_COMMANDS and settings.kafka_broker is not None:
        try:
            asyncio.run(run_preflight(settings, broker_url_to_bootstrap(settings.kafka_broker)))
        except PreflightError as exc:
            _fail(str(exc))
        _register_missing_schemas(settings.schema_registry_url)


def _register_missing_schemas(url: str | None) -> None:
    """DESIGN.md: at start-up the worker registers the subjects the registry lacks."""
    if url is None:
        return
    from app.schemas.output import resolve_output_ids
    from app.schemas.registry import RegistryError, SchemaRegistry

    try:
        SchemaRegistry(url).register_contract(only_missing=True)
        resolve_output_ids()  # with confluent-json: the ids the outputs will carry
    except RegistryError as exc:
        _fail(f"SCHEMA_REGISTRY_URL={url}: {exc}")


#: Allocations between two collections of the youngest generation (CPython's default: 700).
#: An order allocates hundreds of short-lived objects on its way through the agents, so at
#: 700 the collector ran every few records: the order backlog drained at 1,886 orders/s,
#: 2,177/s with 10,000 (50,000: 2,013/s) (bench, issue 11).
GC_YOUNG_THRESHOLD = 10_000


def tune_gc() -> None:
    """Collect garbage less often in a worker, and never scan what start-up loaded again.

    ``gc.freeze`` moves the objects alive now (modules, classes, the App and
    its agents and tables, all kept for the life of the process) out of the
    collector's reach, so the collections of the older generations only scan
    what the stream allocated since. Only the collector's pace changes: cycles
    are still freed, a little later.
    """
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``shopstream`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("FAUST_LOOP", DEFAULT_LOOP)
    command = _command(args)
    try:
        settings = load_settings()
        if command == "worker":
            settings.check_exposure()
    except SettingsError as exc:
        _fail(str(exc))
    if command in BROKER_COMMANDS:
        _prepare_broker(command)
    from app.main import app

    if command == "worker":
        tune_gc()
    sys.argv = [sys.argv[0], *args]
    app.main()


if __name__ == "__main__":
    main()
