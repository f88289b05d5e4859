"""``shopstream schemas register`` and ``shopstream schemas check`` (DESIGN.md "Schemas").

Both talk to the registry at ``SCHEMA_REGISTRY_URL`` and need no broker. A
registry problem ends with one line on stderr (exit 1); an incompatible
document is reported as ``<subject>: <field>: <what changed> (breaks producers
of version N)``, one line per problem, and exits 1.
"""

from __future__ import annotations

import click
from faust.cli.faust import cli

from app.schemas.compatibility import UnsupportedSchema, transitive_incompatibilities
from app.schemas.documents import CONTRACT_TOPICS, document_for, subject_for
from app.schemas.registry import COMPATIBILITY, RegistryError, SchemaRegistry
from app.settings import SettingsError, load_settings

__all__ = ["contract_incompatibilities", "schemas"]


def contract_incompatibilities(registry: SchemaRegistry) -> list[str]:
    """One line per way a repository document would break a registered version."""
    lines = []
    for topic in CONTRACT_TOPICS:
        subject = subject_for(topic)
        try:
            problems = transitive_incompatibilities(document_for(topic), registry.versions(subject))
        except RegistryError as exc:
            if not registry.has_subject(subject):
                continue  # not registered yet: nothing to break
            raise exc from None
        except UnsupportedSchema as exc:
            lines.append(f"{subject}: cannot be compared: {exc}")
            continue
        lines += [
            f"{subject}: {problem} (breaks producers of version {v})" for v, problem in problems
        ]
    return lines


def _registry() -> SchemaRegistry:
    try:
        url = load_settings().schema_registry_url
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    if url is None:
        raise click.ClickException(
            "SCHEMA_REGISTRY_URL is not set (e.g. http://127.0.0.1:8081 or Apicurio's "
            "http://HOST:PORT/apis/ccompat/v7)"
        )
    return SchemaRegistry(url)


def _fail_incompatible(lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)
    raise SystemExit(1)


@click.group(
    help="ShopStream's JSON Schema documents and the schema registry (SCHEMA_REGISTRY_URL)."
)
def schemas() -> None:
    pass


@schemas.command(
    help=f"Register the documents under <topic>-value and set each subject to {COMPATIBILITY}."
)
def register() -> None:
    registry = _registry()
    try:
        problems = contract_incompatibilities(registry)
        if problems:
            _fail_incompatible(problems)
        registered = registry.register_contract(only_missing=False)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    for done in registered:
        state = "new subject" if done.created else "registered"
        click.echo(f"{done.subject}: schema id {done.schema_id} ({state}), {COMPATIBILITY}")


@schemas.command(
    help="Exit 1, naming subject and field, if a document would break a registered version."
)
def check() -> None:
    registry = _registry()
    try:
        problems = contract_incompatibilities(registry)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from None
    if problems:
        _fail_incompatible(problems)
    click.echo(f"{len(CONTRACT_TOPICS)} documents: compatible with every registered version")


cli.add_command(schemas)
