"""``shopstream schemas register`` and ``check`` against a real (fresh) Apicurio registry.

A compatible change (the repository's document adds an optional field to what
a registered version had) passes; an incompatible one (a registered version
lets producers send what the document refuses) fails naming subject and field.
The commands run in-process (click's runner: a ``shopstream`` process costs
seconds of imports), except the failing check, run as a user runs it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from app.schemas.commands import schemas
from app.schemas.documents import CONTRACT_TOPICS, document_for, subject_for
from localservices.registry import LocalSchemaRegistry
from tests.support.worker_process import shopstream_run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def registry() -> Iterator[LocalSchemaRegistry]:
    """A registry of this module's own: the commands use the contract's subject names."""
    with LocalSchemaRegistry() as local:
        yield local


def _register(client: SchemaRegistryClient, subject: str, document: dict[str, object]) -> int:
    if subject in client.get_subjects():
        client.set_compatibility(subject, "NONE")  # what another team may have done before us
    return int(client.register_schema(subject, Schema(json.dumps(document), "JSON")))


def _schemas(url: str, *args: str) -> Result:
    return CliRunner().invoke(schemas, list(args), env={"SCHEMA_REGISTRY_URL": url})


def test_register_then_check_a_compatible_and_an_incompatible_change(
    registry: LocalSchemaRegistry,
) -> None:
    env = {"SCHEMA_REGISTRY_URL": registry.url}
    client = SchemaRegistryClient({"url": registry.url})
    older = document_for("clickstream")  # an earlier version, without the optional category
    del older["properties"]["category"]
    _register(client, "clickstream-value", older)

    checked = _schemas(registry.url, "check")
    assert checked.exit_code == 0, checked.output  # adding an optional field: compatible

    registered = _schemas(registry.url, "register")
    assert registered.exit_code == 0, registered.output
    assert len(registered.stdout.splitlines()) == len(CONTRACT_TOPICS)
    for topic in CONTRACT_TOPICS:
        assert client.get_compatibility(subject_for(topic)) == "BACKWARD_TRANSITIVE"
    assert len(client.get_versions("clickstream-value")) == 2

    wider = document_for("orders")  # a producer registered integers for session_id
    session = {**wider["$defs"]["optional_id"], "type": ["string", "integer", "null"]}
    wider["oneOf"][0]["properties"]["session_id"] = session
    _register(client, "orders-value", wider)

    failed = shopstream_run("schemas", "check", env=env)
    assert failed.returncode == 1
    assert failed.stderr.splitlines() == [
        "orders-value: order_created.session_id: type ['integer', 'null', 'string'] -> "
        "['null', 'string']: ['integer'] refused (breaks producers of version 2)"
    ]
    refused = _schemas(registry.url, "register")
    assert refused.exit_code == 1
    assert "orders-value: order_created.session_id" in refused.output


def test_without_a_registry_the_commands_say_so_in_one_line() -> None:
    result = shopstream_run("schemas", "check", env={"SCHEMA_REGISTRY_URL": ""})

    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith(
            "SCHEMA_REGISTRY_URL is not set (e.g. http://127.0.0.1:8081 or Apicurio's "
            "http://HOST:PORT/apis/ccompat/v7)"
        )
    )
