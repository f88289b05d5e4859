"""Project commands beside Faust's own (``shopstream worker``, ``shopstream send``, ...).

``kafka``, ``simulate``, ``dlq`` and ``replay`` are plain click commands added
to Faust's command group: they run without starting the App's consumer or web
server, so they are quick (``replay`` refuses to run next to workers).
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from faust.cli.faust import cli

from app.settings import load_settings
from domain.timefmt import InvalidTimestamp, parse_time

if TYPE_CHECKING:
    from app.kafka.dlq import StoredLetter
    from app.replay.plan import Progress as ReplayProgress

__all__ = ["dlq", "kafka", "replay", "simulate"]


@click.command(help="Run a local Apache Kafka (KRaft) in the foreground until Ctrl-C.")
@click.option("--port", type=int, default=9092, show_default=True, help="broker port (0 = free)")
@click.option("--brokers", type=click.IntRange(1, 9), default=1, show_default=True)
@click.option(
    "--partitions",
    type=click.IntRange(1, 1024),
    default=None,
    help="partitions of auto-created topics (default: SHOPSTREAM_PARTITIONS)",
)
@click.option(
    "--datadir",
    type=click.Path(file_okay=False),
    default=None,
    help="keep the broker's data here across runs (default: a temporary directory)",
)
def kafka(port: int, brokers: int, partitions: int | None, datadir: str | None) -> None:
    from localservices.kafka.cli import run_foreground

    settings = load_settings()
    code = run_foreground(port or None, brokers, datadir, partitions or settings.partitions)
    sys.exit(code)


def _parse_time_option(
    _ctx: click.Context, param: click.Parameter, value: str | None
) -> datetime | None:
    """Click callback of the ISO-8601 time options (``--start-time``, ``--from``)."""
    if value is None:
        return None
    try:
        return parse_time(value, field=param.opts[0])
    except InvalidTimestamp as exc:
        raise click.BadParameter(str(exc)) from None


@click.command(help="Produce realistic shop events on orders, payments, shipments and clickstream.")
@click.option(
    "--rate",
    type=click.FloatRange(min=0),
    default=100.0,
    show_default=True,
    help="events per second (0 = as fast as possible)",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="stop after this many seconds",
)
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=None,
    help="stop after this many records (faults included)",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="random seed: same seed, same events (default: random)",
)
@click.option(
    "--duplicates",
    "fraction_duplicates",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="fraction of events delivered twice",
)
@click.option(
    "--out-of-order",
    "fraction_out_of_order",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="fraction of events held back and delivered late",
)
@click.option(
    "--malformed",
    "fraction_malformed",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="fraction of extra records that are poison",
)
@click.option(
    "--jsonl",
    "jsonl_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="also write every produced record to this JSONL file",
)
@click.option(
    "--start-time",
    callback=_parse_time_option,
    default=None,
    help="event time of the first event (ISO-8601); default: now, advancing live",
)
@click.option("--progress/--no-progress", default=True, show_default=True)
@click.option(
    "--framed-share",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="share of valid events sent in the Confluent wire format (needs SCHEMA_REGISTRY_URL)",
)
def simulate(
    rate: float,
    duration: float | None,
    count: int | None,
    seed: int | None,
    fraction_duplicates: float,
    fraction_out_of_order: float,
    fraction_malformed: float,
    jsonl_path: str | None,
    start_time: datetime | None,
    progress: bool,
    framed_share: float,
) -> None:
    from app.schemas.registry import RegistryError, input_schema_ids
    from loadgen import SimulationOptions, run_simulation

    settings = load_settings()
    schema_ids = None
    if framed_share > 0:
        if settings.schema_registry_url is None:
            raise click.UsageError(
                "--framed-share needs SCHEMA_REGISTRY_URL (framed values name a schema id)"
            )
        try:
            schema_ids = input_schema_ids(settings.schema_registry_url)
        except RegistryError as exc:
            raise click.ClickException(str(exc)) from None
    try:
        options = SimulationOptions(
            rate=rate,
            duration=duration,
            count=count,
            fraction_duplicates=fraction_duplicates,
            fraction_out_of_order=fraction_out_of_order,
            fraction_malformed=fraction_malformed,
            brokers=settings.broker_bootstrap,
            jsonl_path=None if jsonl_path is None else Path(jsonl_path),
            start_time=start_time,
            progress=progress,
            framed_share=framed_share,
            schema_ids=schema_ids,
            **({} if seed is None else {"seed": seed}),  # type: ignore[arg-type]
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    report = asyncio.run(run_simulation(options))
    click.echo(report.summary() if hasattr(report, "summary") else str(report), err=True)


cli.add_command(kafka)
cli.add_command(simulate)


@click.group(help="Inspect dead letters and send them back through the pipeline.")
def dlq() -> None:
    pass


def _dead_letters(
    ids: tuple[str, ...] | list[str] = (), stage: str | None = None, source_topic: str | None = None
) -> list[StoredLetter]:
    """Read ``dead-letters`` from the configured broker and keep those asked for."""
    from app.kafka.dlq import read_dead_letters, select_letters

    letters = asyncio.run(read_dead_letters(load_settings().broker_bootstrap))
    return select_letters(letters, ids=ids, stage=stage, source_topic=source_topic)


@dlq.command(
    name="list", help="One line per dead letter: id (partition:offset), source, stage, error."
)
@click.option(
    "--stage", default=None, help="only letters of this stage (decode, validate, apply, ...)"
)
@click.option("--source-topic", default=None, help="only letters from this topic")
def dlq_list(stage: str | None, source_topic: str | None) -> None:
    letters = _dead_letters(stage=stage, source_topic=source_topic)
    for letter in letters:
        record = letter.record
        click.echo(
            f"{letter.letter_id:>10}  {record.get('source_topic')}[{record.get('partition')}]"
            f"@{record.get('offset')}  key={record.get('key')}  {record.get('stage')}  "
            f"{record.get('error_type')}: "
            f"{str(record.get('error'))[:100]}"
        )
    click.echo(f"{len(letters)} dead letter(s)", err=True)


@dlq.command(
    name="show",
    help="Everything about one dead letter, with its original value "
    "(fetched from the source topic when the letter carries only a prefix).",
)
@click.argument("letter_id")
def dlq_show(letter_id: str) -> None:
    from app.kafka.dlq import fetch_originals

    found = _dead_letters(ids=[letter_id])
    if not found:
        raise click.ClickException(f"no dead letter {letter_id} (ids are partition:offset)")
    originals = asyncio.run(fetch_originals(load_settings().broker_bootstrap, found))
    click.echo(found[0].describe(originals[letter_id]))


@dlq.command(name="requeue", help="Send dead letters back to their source topics.")
@click.argument("letter_ids", nargs=-1)
@click.option(
    "--all", "requeue_all", is_flag=True, help="every letter (with --stage/--source-topic: those)"
)
@click.option("--stage", default=None)
@click.option("--source-topic", default=None)
def dlq_requeue(
    letter_ids: tuple[str, ...], requeue_all: bool, stage: str | None, source_topic: str | None
) -> None:
    from app.kafka.dlq import requeue_letters

    if not letter_ids and not requeue_all:
        raise click.UsageError("name letters (partition:offset) or pass --all")
    chosen = _dead_letters(ids=letter_ids, stage=stage, source_topic=source_topic)
    missing = set(letter_ids) - {letter.letter_id for letter in chosen}
    if missing:
        raise click.ClickException(f"no such dead letter(s): {', '.join(sorted(missing))}")
    done = asyncio.run(requeue_letters(load_settings().broker_bootstrap, chosen))
    click.echo(f"requeued {done.sent} dead letter(s)")
    for gone_id, reason in sorted(done.gone.items()):
        click.echo(f"not requeued {gone_id}: the original is gone: {reason}", err=True)
    if done.gone:
        raise SystemExit(1)


cli.add_command(dlq)


def _changelog_topics() -> list[str]:
    """Changelog topic of every table the App declares (autodiscovered before commands run)."""
    from app.main import app

    return sorted(table.changelog_topic.get_topic_name() for table in app.tables.values())


class _ProgressView:
    """A rich progress bar on a terminal, a plain line every few seconds otherwise."""

    def __init__(self, total: int, *, tty: bool) -> None:
        self._bar: Any = None
        self._last_line = ""
        self._last_at = 0.0
        if tty:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("rebuilding"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} input records"),
                TextColumn("internal lag {task.fields[lag]}"),
                TimeElapsedColumn(),
            )
            self._task = self._bar.add_task("replay", total=max(total, 1), lag=0)
            self._bar.start()

    def update(self, progress: ReplayProgress) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=progress.done, lag=progress.internal_lag)
            return
        line = progress.line()
        if line != self._last_line and (progress.caught_up or time.monotonic() - self._last_at > 2):
            click.echo(line)
            self._last_line, self._last_at = line, time.monotonic()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


@click.command(help="Rebuild all derived state from the input topics (stop every worker first).")
@click.option(
    "--from",
    "since",
    callback=_parse_time_option,
    default=None,
    help="replay input records produced at or after this ISO-8601 time (default: all)",
)
@click.option("--dry-run", is_flag=True, help="print what would be done, change nothing")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@click.option(
    "--follow/--no-follow",
    default=True,
    show_default=True,
    help="after the reset, show progress until the (restarted) workers have caught up",
)
@click.option(
    "--follow-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="stop following after this many seconds with a non-zero exit (default: never)",
)
def replay(
    since: datetime | None, dry_run: bool, yes: bool, follow: bool, follow_timeout: float | None
) -> None:
    from app.replay.command import execute_replay, follow_rebuild, prepare_replay
    from app.replay.plan import ReplayError, refusal

    settings = load_settings()
    bootstrap = settings.broker_bootstrap
    try:
        plan, members = asyncio.run(prepare_replay(settings, bootstrap, since, _changelog_topics()))
        refused = refusal(plan.group, members)
        if refused:
            raise ReplayError(refused)
        for line in plan.describe():
            click.echo(line)
        if dry_run:
            click.echo("dry run: nothing changed")
            return
        if not yes:
            if not sys.stdin.isatty():
                raise ReplayError("not replaying without confirmation: no terminal; pass --yes")
            click.confirm("clear the derived state and replay?", abort=True)
        asyncio.run(execute_replay(plan, settings, bootstrap, click.echo))
        click.echo("state cleared: start the workers now (shopstream worker) to rebuild it")
        if not follow:
            return
        view = _ProgressView(plan.records_to_replay, tty=sys.stdout.isatty())
        try:
            asyncio.run(follow_rebuild(plan, bootstrap, view.update, timeout=follow_timeout))
        finally:
            view.close()
        click.echo("rebuild caught up with the input topics as they were at the reset")
    except ReplayError as exc:
        raise click.ClickException(str(exc)) from None


cli.add_command(replay)
