"""The local registry says in one line what is missing, instead of a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _fetch_only_with(path: Path, cache: Path) -> list[str]:
    """stderr lines of ``python -m localservices.registry --fetch-only`` with only ``path``."""
    result = subprocess.run(
        [sys.executable, "-m", "localservices.registry", "--fetch-only"],
        cwd=ROOT,
        env={"PATH": str(path), "SHOPSTREAM_CACHE_DIR": str(cache)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    return result.stderr.strip().splitlines()


def test_without_java_the_registry_stops_with_one_line(tmp_path: Path) -> None:
    lines = _fetch_only_with(tmp_path, tmp_path / "cache")

    assert len(lines) == 1 and "java (JDK 17+) not found" in lines[0], lines


def test_without_maven_a_cold_cache_stops_with_one_line(tmp_path: Path) -> None:
    java = shutil.which("java")
    assert java is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "java").symlink_to(Path(java).resolve())

    lines = _fetch_only_with(bin_dir, tmp_path / "cache")

    assert len(lines) == 1 and "mvn (Apache Maven) not found" in lines[0], lines
