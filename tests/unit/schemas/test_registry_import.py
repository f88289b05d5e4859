"""A worker's start does not import the Schema Registry client unless it makes one.

confluent-kafka's registry client brings httpx and authlib: about 0.35 s of every
start, which a SIGKILLed static member pays before it can rejoin within the session
timeout (``tests/integration/test_static_membership.py``).
"""

from __future__ import annotations

import subprocess
import sys

from tests.support.worker_process import ROOT

WORKER_MODULES = (
    "app.main",
    "agents.analytics",
    "agents.orders",
    "agents.customer_orders",
    "agents.fraud",
    "agents.webhook",
    "agents.pending_sweep",
    "app.web",
    "app.commands",
    "app.schemas.commands",
)


def test_the_worker_modules_leave_the_registry_client_unimported() -> None:
    script = (
        f"import {', '.join(WORKER_MODULES)}, sys\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'authlib')"
        " or m.startswith('confluent_kafka.schema_registry')))"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == "[]"
