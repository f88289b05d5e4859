"""Start-up fails fast and clearly instead of hanging or dumping a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_broker_port_that_never_answers_ends_start_up_with_one_line(tmp_path: Path) -> None:
    # Given a port that accepts connections but never speaks Kafka
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        env = {
            **os.environ,
            "KAFKA_BROKER": f"kafka://127.0.0.1:{port}",
            "SHOPSTREAM_BROKER_TIMEOUT": "3",
            "SHOPSTREAM_DATADIR": str(tmp_path),
        }
        started = time.monotonic()
        # When a worker starts against it
        result = subprocess.run(
            [sys.executable, "-m", "app", "worker"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        elapsed = time.monotonic() - started
    # Then it stops within a bounded time with one line naming the variable
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "KAFKA_BROKER" in lines[0] and "did not answer" in lines[0]
    assert elapsed < 30
