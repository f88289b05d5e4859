"""The project's own schema registry: a real Apicurio that starts, answers and leaves nothing behind."""

from __future__ import annotations

import json
import os
import urllib.request

import pytest

from localservices.registry import LocalSchemaRegistry

pytestmark = pytest.mark.integration


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_session_registry_speaks_the_confluent_api(schema_registry: str, unique: str) -> None:
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

    client = SchemaRegistryClient({"url": schema_registry})
    document = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}
    schema_id = client.register_schema(
        f"probe-{unique}-value", Schema(json.dumps(document), "JSON")
    )

    assert json.loads(client.get_schema(schema_id).schema_str or "") == document
    assert f"probe-{unique}-value" in _get(f"{schema_registry}/subjects")  # type: ignore[operator]


def test_stop_leaves_no_process_and_pause_keeps_the_schemas() -> None:
    registry = LocalSchemaRegistry().start()
    try:
        pid = registry.pid
        assert pid is not None
        registry.pause()
        with pytest.raises(OSError):
            urllib.request.urlopen(registry.url + "/subjects", timeout=1)
        registry.resume()
        assert _get(registry.url + "/subjects") == []
    finally:
        registry.stop()
    assert registry.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
