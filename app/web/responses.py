"""Small helpers shared by the web views: JSON errors and parameter parsing.

DESIGN.md: bad input is answered with a 4xx and ``{"error": ...}``, never a 500.
Views raise :class:`BadRequest`; :func:`json_error` renders it.
"""

from __future__ import annotations

import re

from faust.web import Request, Response, View

__all__ = ["BadRequest", "json_error", "query", "valid_id"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")


class BadRequest(ValueError):
    """A request parameter that cannot be answered; becomes a 400 (or the given status)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def json_error(view: View, message: str, *, status: int) -> Response:
    return view.json({"error": message}, status=status)


def valid_id(value: str, *, what: str) -> str:
    """Ids in paths: short, printable, no slashes (they become table keys)."""
    if not _ID.match(value):
        raise BadRequest(f"malformed {what}: {value[:64]!r}")
    return value


def query(request: Request, name: str) -> str | None:
    value = request.query.get(name)
    return None if value is None else str(value)
