"""The local registry says in one line what is missing, instead of a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_without_java_the_registry_stops_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "localservices.registry", "--fetch-only"],
        cwd=ROOT,
        env={"PATH": str(tmp_path), "SHOPSTREAM_CACHE_DIR": str(tmp_path / "cache")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "java (JDK 17+) not found" in lines[0]


def test_without_maven_a_cold_cache_stops_with_one_line(tmp_path: Path) -> None:
    java = Path(subprocess.run(["which", "java"], capture_output=True, text=True).stdout.strip())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "java").symlink_to(java.resolve())
    result = subprocess.run(
        [sys.executable, "-m", "localservices.registry", "--fetch-only"],
        cwd=ROOT,
        env={"PATH": str(bin_dir), "SHOPSTREAM_CACHE_DIR": str(tmp_path / "cache")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "mvn (Apache Maven) not found" in lines[0]
