"""Fetch Apicurio Registry's prebuilt app from Maven Central into the local cache.

Apicurio publishes its runnable registry on Maven Central
(``io.apicurio:apicurio-registry-app:<version>:tar.gz:all``), so the project
gets a real Confluent-compatible schema registry the way it gets Kafka: Maven
copies the archive once, it is unpacked under ``<cache>/apicurio-<version>``,
and a marker file makes every later run skip Maven (no network needed).

2.6.13.Final is pinned because it runs on JDK 17 (the 3.x apps need Java 21);
see ``REGISTRY_NOTES.md``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from localservices.kafka.distribution import (
    _exclusive_lock,
    check_java,
    default_cache_root,
    find_mvn,
)
from localservices.registry.errors import DistributionFetchError

__all__ = ["APICURIO_VERSION", "ApicurioDistribution", "ensure_apicurio"]

APICURIO_VERSION = "2.6.13.Final"
_ARTIFACT = "io.apicurio:apicurio-registry-app:{version}:tar.gz:all"
_MARKER = "fetch-complete.json"


@dataclass(frozen=True)
class ApicurioDistribution:
    """An unpacked Apicurio app: its runner jar and the java that runs it."""

    version: str
    home: Path
    java: str
    java_build: str = ""

    @property
    def runner_jar(self) -> Path:
        return self.home / f"apicurio-registry-app-{self.version}-runner.jar"

    @property
    def class_archive(self) -> Path:
        """The registry's AppCDS archive (see :class:`localservices.kafka.classarchive.ClassArchive`).

        Named after the java build: HotSpot ignores archives of another build.
        """
        digest = hashlib.sha256(self.java_build.encode()).hexdigest()[:12]
        return self.home / f"registry-classes-{digest}.jsa"


def _is_complete(home: Path, version: str) -> bool:
    try:
        marker = json.loads((home / _MARKER).read_text())
    except (OSError, ValueError):
        return False
    runner = home / f"apicurio-registry-app-{version}-runner.jar"
    return isinstance(marker, dict) and marker.get("version") == version and runner.is_file()


def _copy_archive(mvn: str, version: str, into: Path) -> Path:
    """``mvn dependency:copy`` the tarball into ``into`` (offline first: ~/.m2 may have it)."""
    artifact = _ARTIFACT.format(version=version)
    output = ""
    for offline in (True, False):
        shutil.rmtree(into, ignore_errors=True)
        command = [mvn, "-B", "-q", "-Dstyle.color=never", *(["-o"] if offline else [])]
        command += ["dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={into}"]
        done = subprocess.run(
            command, cwd=into.parent, capture_output=True, text=True, check=False, timeout=900
        )
        output = done.stdout + done.stderr
        archives = list(into.glob("*.tar.gz")) if done.returncode == 0 else []
        if archives:
            return archives[0]
    tail = "\n".join(output.strip().splitlines()[-15:])
    raise DistributionFetchError(
        f"mvn could not fetch {artifact} (is Maven Central reachable?):\n{tail}"
    )


def _fetch(mvn: str, home: Path, version: str) -> None:
    download = home.parent / f"apicurio-{version}.download"
    staging = home.parent / f"apicurio-{version}.partial"
    archive = _copy_archive(mvn, version, download)
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(archive) as tar:
        tar.extractall(staging, filter="data")
    shutil.rmtree(download, ignore_errors=True)
    if not (staging / f"apicurio-registry-app-{version}-runner.jar").is_file():
        raise DistributionFetchError(f"the Apicurio {version} archive has no runner jar")
    shutil.rmtree(home, ignore_errors=True)
    staging.rename(home)


def ensure_apicurio(
    version: str = APICURIO_VERSION, cache_root: Path | str | None = None
) -> ApicurioDistribution:
    """Return the cached Apicurio app, fetching it with Maven on first use.

    Java is checked on every call (it runs the registry); Maven only when a
    fetch is needed. Raises :class:`MissingPrerequisite` (one line) without
    them and :class:`DistributionFetchError` when Maven fails.
    """
    java = check_java()
    root = Path(cache_root) if cache_root is not None else default_cache_root()
    home = root / f"apicurio-{version}"
    if _is_complete(home, version):
        return ApicurioDistribution(version, home, java.path, java.build)
    mvn = find_mvn()
    with _exclusive_lock(root / f"apicurio-{version}.lock"):
        if not _is_complete(home, version):  # another process may have just finished
            started = time.monotonic()
            _fetch(mvn, home, version)
            marker = {"version": version, "fetch_seconds": round(time.monotonic() - started, 1)}
            (home / _MARKER).write_text(json.dumps(marker, indent=1))
    return ApicurioDistribution(version, home, java.path, java.build)
