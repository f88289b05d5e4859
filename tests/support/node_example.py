"""The Node.js example (``examples/node``) for integration tests: found, installed once, run.

Node.js is optional for ``make test`` on a laptop: without ``node`` 18+ (20+ for the
registry variant) and ``npm`` the tests that use it are skipped with one line saying how
to get them (in CI they fail). ``npm ci`` runs from the lockfile once per lockfile change
(a stamp in ``node_modules``), the registry client included: 20-70 s the first time on
the shared 2-core machine, one install for every test.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.support.prerequisites import in_ci, require_program

__all__ = [
    "MIN_NODE_MAJOR_WITH_REGISTRY",
    "NODE_EXAMPLE",
    "install_node_example",
    "node_or_skip",
    "node_process",
    "run_node",
]

ROOT = Path(__file__).resolve().parents[2]
NODE_EXAMPLE = ROOT / "examples" / "node"
#: KafkaJS runs on Node.js 14+, the example's own code on 16+; Debian 12's nodejs is 18.
MIN_NODE_MAJOR = 18
#: The schema registry client's dependencies (AWS and Azure SDKs) declare Node.js 20+.
MIN_NODE_MAJOR_WITH_REGISTRY = 20
HOW_TO_GET = "apt-get install nodejs npm, or https://nodejs.org"
_STAMP = NODE_EXAMPLE / "node_modules" / ".shopstream-installed"


def _node_major(node: str) -> int | None:
    result = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    match = re.match(r"v(\d+)\.", result.stdout.strip())
    return int(match.group(1)) if match else None


def node_or_skip(min_major: int = MIN_NODE_MAJOR) -> str:
    """The ``node`` executable (``min_major``+, with npm); otherwise skip (laptop) or fail (CI)."""
    needed_for = "the Node.js interop tests"
    node = require_program("node", needed_for=needed_for, install=HOW_TO_GET)
    require_program("npm", needed_for=needed_for, install=HOW_TO_GET)
    major = _node_major(node)
    if major is None or major < min_major:
        message = f"Node.js {min_major}+ needed, found {major}: {needed_for} will be skipped ({HOW_TO_GET})"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return node


def install_node_example() -> None:
    """``npm ci`` in examples/node unless this lockfile is already installed (stamp).

    The whole lockfile, the registry client included: a second, different install while
    another test runs node from ``node_modules`` would pull it from under that test. Under
    a file lock, since pytest-xdist may start two Node.js tests at once.
    """
    lock = hashlib.sha256((NODE_EXAMPLE / "package-lock.json").read_bytes()).hexdigest()
    with (NODE_EXAMPLE / ".npm-install.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if _STAMP.exists() and _STAMP.read_text().strip() == lock:
            return
        command = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
        result = subprocess.run(
            command, cwd=NODE_EXAMPLE, capture_output=True, text=True, timeout=900, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed in {NODE_EXAMPLE}:\n{result.stderr[-3000:]}"
            )
        _STAMP.write_text(lock + "\n")


def run_node(
    script: str, args: Sequence[str], *, env: Mapping[str, str], timeout: float = 60.0
) -> str:
    """Run one of the example's scripts to the end; returns stdout, raises on failure."""
    result = subprocess.run(
        ["node", script, *args],
        cwd=NODE_EXAMPLE,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"node {script} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def node_process(
    script: str, args: Sequence[str], *, env: Mapping[str, str]
) -> subprocess.Popen[str]:
    """Start one of the example's scripts in the background (stdout and stderr piped)."""
    return subprocess.Popen(
        ["node", script, *args],
        cwd=NODE_EXAMPLE,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
