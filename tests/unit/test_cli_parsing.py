"""The command line finds the sub-command behind Faust's global options."""

from __future__ import annotations

import pytest

from app.__main__ import _command


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["worker", "-l", "info"], "worker"),
        (["-L", "uvloop", "worker"], "worker"),
        (["--json", "simulate", "--rate", "5"], "simulate"),
        (["--datadir", "/tmp/x", "dlq", "list"], "dlq"),
        ([], None),
    ],
)
def test_sub_command_is_found(argv: list[str], expected: str | None) -> None:
    assert _command(argv) == expected
