"""Say clearly what this machine has and lacks for `make demo` and `make test`.

Runs with any Python 3 before the virtualenv exists, so it uses the standard
library only. `make prereqs` (``--list``) prints one line per prerequisite,
found or not, with how to get it; `make setup` prints only what is missing.
Exit status 1 when a required piece is missing; optional pieces (only some
tests need them: they skip without them, except in CI) are warnings.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Prerequisite:
    name: str
    needed_for: str
    install: str
    required: bool


PREREQUISITES = (
    Prerequisite(
        "python", "everything (3.11 or newer)", "apt-get install python3.11 python3.11-venv", True
    ),
    Prerequisite(
        "java",
        "Apache Kafka and the schema registry (JDK 17 or newer)",
        "apt-get install openjdk-17-jdk-headless",
        True,
    ),
    Prerequisite(
        "mvn",
        "fetching Apache Kafka and the registry from Maven Central",
        "apt-get install maven",
        True,
    ),
    Prerequisite("chromium", "the dashboard browser test", "apt-get install chromium", False),
    Prerequisite(
        "node", "the Node.js interop tests and examples/node", "apt-get install nodejs npm", False
    ),
    Prerequisite(
        "npm", "the Node.js interop tests and examples/node", "apt-get install nodejs npm", False
    ),
)


def java_major() -> int | None:
    java = shutil.which("java")
    if java is None:
        return None
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def found(item: Prerequisite) -> tuple[bool, str]:
    """Whether ``item`` is usable here, and what was found."""
    if item.name == "python":
        version = sys.version.split()[0]
        return sys.version_info >= (3, 11), f"Python {version}"
    if item.name == "java":
        major = java_major()
        return major is not None and major >= 17, "not found" if major is None else f"Java {major}"
    path = shutil.which(item.name)
    return path is not None, path or "not found"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--list", action="store_true", help="one line per prerequisite, found or not"
    )
    listing = parser.parse_args(argv).list
    missing_required = False
    for item in PREREQUISITES:
        ok, what = found(item)
        if listing:
            state = "ok" if ok else ("MISSING" if item.required else "missing (optional)")
            print(
                f"{state:<19} {item.name:<9} {what:<28} for {item.needed_for}"
                + ("" if ok else f"; {item.install}")
            )
        elif not ok:
            kind = "missing" if item.required else "warning"
            skipped = "" if item.required else ": those tests will be skipped"
            print(
                f"{kind}: {item.name} ({what}) is needed for {item.needed_for}{skipped} ({item.install})",
                file=sys.stderr,
            )
        missing_required |= item.required and not ok
    return 1 if missing_required else 0


if __name__ == "__main__":
    sys.exit(main())
