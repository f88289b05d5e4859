"""The seeds' "setup complexity" as numbers: install time from an empty cache, native build.

Each client is installed alone, into a folder of its own, with every download cache
empty: ``npm ci --cache <empty>`` from the client's own lockfile
(``bench/clients/node/<client>/``; node-gyp's header cache is empty too), and
``pip install --no-cache-dir <client>==<pin>`` into a fresh virtualenv (the venv's own
creation is not timed). "Native build" means the install compiled code on this machine:
node-gyp ran (a ``build/Release/*.node`` appeared), or pip built a wheel instead of
taking a prebuilt one. The Node.js installs are the ones the measurements then run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["NODE_CLIENTS", "PYTHON_CLIENTS", "Installed", "install_node", "install_python"]

NODE_DIR = Path(__file__).resolve().parent / "node"
NODE_CLIENTS = ("kafkajs", "node-rdkafka")
#: Python client -> the distribution pip installs (pinned to the version in this venv).
PYTHON_CLIENTS = {"aiokafka": "aiokafka", "confluent-kafka": "confluent-kafka"}


class InstallFailed(RuntimeError):
    """An install that did not finish: the client cannot be measured."""


@dataclass(frozen=True, slots=True)
class Installed:
    """One timed install: what, how long, whether it compiled, how big, where."""

    client: str
    version: str
    seconds: float
    native_build: bool
    size_mib: float
    location: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _size_mib(path: Path) -> float:
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
    return round(total / 2**20, 1)


def _run_timed(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    try:
        result = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800, check=False
        )
    except FileNotFoundError as exc:
        raise InstallFailed(
            f"{command[0]} not found (Node.js clients: apt-get install nodejs npm)"
        ) from exc
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise InstallFailed(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return seconds


def install_node(client: str, into: Path) -> Installed:
    """``npm ci`` of one Node.js client from an empty npm cache, into ``into/<client>``."""
    source = NODE_DIR / client
    target = into / client
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(source / name, target / name)
    with tempfile.TemporaryDirectory(prefix="npm-cache-") as cache:
        env = {**os.environ, "npm_config_cache": cache, "npm_config_devdir": f"{cache}/node-gyp"}
        seconds = _run_timed(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target, env=env
        )
    modules = target / "node_modules"
    version = json.loads((modules / client / "package.json").read_text())["version"].lstrip("v")
    native = any(modules.rglob("build/Release/*.node"))
    return Installed(client, version, round(seconds, 1), native, _size_mib(modules), str(modules))


def install_python(client: str, into: Path) -> Installed:
    """``pip install --no-cache-dir`` of one Python client (this venv's version) into a new venv."""
    distribution = PYTHON_CLIENTS[client]
    version = metadata.version(distribution)
    venv = into / f"venv-{client}"
    if venv.exists():
        shutil.rmtree(venv)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    site = next((venv / "lib").glob("python*/site-packages"))
    before = _size_mib(site)
    started = time.perf_counter()
    result = subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "--no-cache-dir",
            "--disable-pip-version-check",
            f"{distribution}=={version}",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise InstallFailed(
            f"pip install {distribution}=={version} failed:\n{result.stderr[-3000:]}"
        )
    native = "Building wheel for" in result.stdout
    size = round(_size_mib(site) - before, 1)
    shutil.rmtree(venv, ignore_errors=True)
    return Installed(client, version, round(seconds, 1), native, size, "")
