"""Say clearly what this machine lacks for `make demo` and `make test`.

Runs with any Python 3 before the virtualenv exists, so it uses the standard
library only. Exit status 1 with one line per missing piece and how to get it;
optional pieces (only some tests need them) are warnings and do not fail.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

HINTS = {
    "python": "Python 3.11 or newer is needed (e.g. apt-get install python3.11 python3.11-venv)",
    "java": "a JDK 17 or newer is needed to run Apache Kafka (apt-get install openjdk-17-jdk-headless)",
    "mvn": "Maven is needed to fetch Apache Kafka from Maven Central (apt-get install maven)",
}


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


def optional_warnings() -> list[str]:
    """What only some tests need: they skip without it, so it warns instead of failing."""
    warnings = []
    if shutil.which("chromium") is None:
        warnings.append(
            "chromium not found: the dashboard browser test will be skipped (apt-get install chromium)"
        )
    return warnings


def main() -> int:
    missing = []
    if sys.version_info < (3, 11):
        missing.append(f"{HINTS['python']} (this is {sys.version.split()[0]})")
    major = java_major()
    if major is None or major < 17:
        found = "not found" if major is None else f"found Java {major}"
        missing.append(f"{HINTS['java']} ({found})")
    if shutil.which("mvn") is None:
        missing.append(HINTS["mvn"])
    for line in missing:
        print(f"missing: {line}", file=sys.stderr)
    for line in optional_warnings():
        print(f"warning: {line}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
