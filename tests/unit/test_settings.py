"""Settings: defaults that work on a laptop, and one-line errors that name the variable."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from app.settings import SettingsError, broker_url_to_bootstrap, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_work_without_any_variable() -> None:
    settings = load_settings({})
    assert settings.kafka_broker is None
    assert settings.web_port == 6066
    assert settings.partitions == 4
    assert settings.fraud_max_amount_per_hour == Decimal("5000.00")


def test_broker_url_is_normalized_to_faust_form() -> None:
    settings = load_settings({"KAFKA_BROKER": "localhost:9092, kafka://h2:9093"})
    assert settings.kafka_broker == "kafka://localhost:9092;h2:9093"
    assert settings.broker_bootstrap == "localhost:9092,h2:9093"
    assert broker_url_to_bootstrap("kafka://a:1;kafka://b:2") == "a:1,b:2"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KAFKA_BROKER", "http://localhost:9092"),
        ("KAFKA_BROKER", "localhost"),
        ("SHOPSTREAM_WEB_PORT", "abc"),
        ("SHOPSTREAM_WEB_PORT", "70000"),
        ("SHOPSTREAM_PARTITIONS", "0"),
        ("SHOPSTREAM_FRAUD_MAX_AMOUNT_PER_HOUR", "-5"),
        ("SHOPSTREAM_WEBHOOK_URL", "ftp://x"),
        ("SHOPSTREAM_LOG_LEVEL", "loud"),
        ("SHOPSTREAM_CLUSTER_TOKEN", "short"),
        ("SHOPSTREAM_CLUSTER_TOKEN", "sixteen chars with spaces"),
        ("SHOPSTREAM_MAX_SSE_CLIENTS", "-1"),
        ("SHOPSTREAM_MAX_LONG_POLLS", "many"),
        ("SCHEMA_REGISTRY_URL", "localhost:8081"),
        ("SCHEMA_REGISTRY_URL", "http://127.0.0.1:8081/?x=1"),
        ("SHOPSTREAM_OUTPUT_FORMAT", "avro"),
        ("SHOPSTREAM_INSTANCE_ID", "worker 1"),
        ("SHOPSTREAM_INSTANCE_ID", "worker/1"),
        ("SHOPSTREAM_INSTANCE_ID", ".."),
        ("SHOPSTREAM_INSTANCE_ID", "w" * 250),
        ("SHOPSTREAM_OUTPUT_FORMAT", "confluent-json"),  # without SCHEMA_REGISTRY_URL
    ],
)
def test_wrong_value_names_the_variable_in_one_line(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({name: value})
    message = str(caught.value)
    assert message.startswith(f"{name}=")
    assert "\n" not in message


def test_schema_registry_and_output_format() -> None:
    assert load_settings({}).schema_registry_url is None
    assert load_settings({}).output_format == "json"
    settings = load_settings(
        {
            "SCHEMA_REGISTRY_URL": "http://127.0.0.1:8081/apis/ccompat/v7/",
            "SHOPSTREAM_OUTPUT_FORMAT": "confluent-json",
        }
    )
    assert settings.schema_registry_url == "http://127.0.0.1:8081/apis/ccompat/v7"
    assert settings.output_format == "confluent-json"


def test_instance_id_is_optional_static_membership() -> None:
    assert load_settings({}).instance_id is None  # dynamic membership, as before
    assert load_settings({"SHOPSTREAM_INSTANCE_ID": " "}).instance_id is None
    settings = load_settings({"SHOPSTREAM_INSTANCE_ID": "shopstream-worker-0"})
    assert settings.instance_id == "shopstream-worker-0"
    assert load_settings({"SHOPSTREAM_INSTANCE_ID": "w" * 249}).instance_id == "w" * 249


def _worker_refusal(env: dict[str, str]) -> str:
    """Start ``shopstream worker`` with only ``env``; it must exit 2 with one line: that line."""
    result = subprocess.run(
        [sys.executable, "-m", "app", "worker"],
        cwd=ROOT,
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_wrong_setting_stops_the_command_line_with_one_line() -> None:
    assert "SHOPSTREAM_WEB_PORT" in _worker_refusal({"SHOPSTREAM_WEB_PORT": "not-a-port"})


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_a_loopback_worker_needs_no_cluster_token(host: str) -> None:
    settings = load_settings({"SHOPSTREAM_WEB_HOST": host})
    assert not settings.listens_beyond_loopback
    settings.check_exposure()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "shop-worker-1"])
def test_listening_beyond_loopback_needs_a_cluster_token(host: str) -> None:
    with pytest.raises(SettingsError, match=r"^SHOPSTREAM_CLUSTER_TOKEN must be set"):
        load_settings({"SHOPSTREAM_WEB_HOST": host}).check_exposure()
    token = "t0ken-of-the-group-1234"
    settings = load_settings({"SHOPSTREAM_WEB_HOST": host, "SHOPSTREAM_CLUSTER_TOKEN": token})
    settings.check_exposure()
    assert settings.cluster_token == token


def test_a_worker_bound_beyond_loopback_without_token_stops_with_one_line() -> None:
    assert "SHOPSTREAM_CLUSTER_TOKEN" in _worker_refusal({"SHOPSTREAM_WEB_HOST": "0.0.0.0"})
