"""Outside programs some tests need (Chromium, Node.js): skip on a laptop, never in CI.

A newcomer without Chromium still gets a green ``make test``, told in one line
what was skipped and how to get it; CI (``CI=true``, set by ``.ci/run``'s caller)
installs every prerequisite, so a missing one there is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil

import pytest

__all__ = ["in_ci", "require_program"]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_program(name: str, *, needed_for: str, install: str) -> str:
    """The path of ``name``; otherwise skip (laptop) or fail (CI) with one line saying how to get it."""
    path = shutil.which(name)
    if path is not None:
        return path
    message = f"{name} not found: {needed_for} will be skipped ({install}; `make prereqs` lists it)"
    if in_ci():
        pytest.fail(f"{message} -- CI must run it: .ci/run installs it", pytrace=False)
    pytest.skip(message)
