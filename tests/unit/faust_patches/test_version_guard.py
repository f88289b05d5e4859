"""The patches refuse a Faust or aiokafka they were not checked against."""

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
