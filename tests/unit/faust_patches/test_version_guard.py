"""The patches refuse a Faust, aiokafka or mode they were not checked against."""

from __future__ import annotations

import pytest

from app import faust_patches
from app.kafka import fatal


def test_the_patches_refuse_a_faust_or_aiokafka_they_were_not_checked_against(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import faust

    faust_patches.install(fatal)  # the pinned versions: accepted
    monkeypatch.setattr(faust, "__version__", "0.16.0")
    with pytest.raises(RuntimeError, match="re-check each patch"):
        faust_patches.install(fatal)


def test_the_patches_refuse_a_mode_they_were_not_checked_against(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.metadata

    real = importlib.metadata.version

    def version(name: str) -> str:
        return "0.8.0" if name == "mode-streaming" else real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    with pytest.raises(RuntimeError, match="mode-streaming"):
        faust_patches.install(fatal)
