"""A breaking change to a schema document fails CI: each document against its committed history.

Every version of ``schemas/<subject>.json`` that git knows is a version some
producer may still write, so the working-tree document must be BACKWARD
compatible with each (BACKWARD_TRANSITIVE, the registry's rule). Reading git
takes milliseconds; without git history (an exported tree) the check is skipped.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from app.schemas.compatibility import transitive_incompatibilities
from app.schemas.documents import CONTRACT_TOPICS, document_for, subject_for

ROOT = Path(__file__).resolve().parents[3]


def _git(*args: str) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    done = subprocess.run([git, "-C", str(ROOT), *args], capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def committed_versions(path: str) -> list[tuple[str, dict[str, Any]]]:
    """``(short commit, document)`` for every commit that changed ``path``, oldest first."""
    log = _git("log", "--format=%h", "--reverse", "--", path)
    if log is None:
        pytest.skip("no git history here: the schema history check needs a clone")
    versions = []
    for commit in log.split():
        text = _git("show", f"{commit}:{path}")
        if text is not None:  # None: the commit deleted or renamed it
            versions.append((commit, json.loads(text)))
    return versions


@pytest.mark.parametrize("topic", CONTRACT_TOPICS)
def test_each_document_is_backward_compatible_with_all_its_committed_versions(
    topic: str,
) -> None:
    previous = committed_versions(f"schemas/{subject_for(topic)}.json")

    problems = transitive_incompatibilities(document_for(topic), previous)

    assert not problems, "\n".join(
        f"{subject_for(topic)}: {problem} (breaks producers of version {commit})"
        for commit, problem in problems
    )
