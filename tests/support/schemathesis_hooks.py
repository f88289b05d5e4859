"""Schemathesis hooks for ``tests/integration/test_openapi_conformance.py``.

Loaded by the Schemathesis CLI through ``SCHEMATHESIS_HOOKS``. One change to
the generated requests, so the run stays short: a long-poll
(``/orders/{id}?wait_for=...``) waits at most :data:`LONG_POLL_SECONDS` instead of
the up to 300 s the document allows (the generated order ids are unknown, so
each wait would last its whole timeout). The value stays within the documented
bounds, so the request is still schema-valid; waiting itself is tested in
``test_order_lifecycle.py`` and hanging up in ``test_http_limits.py``.
"""

from __future__ import annotations

from typing import Any

import schemathesis

LONG_POLL_SECONDS = 0.2


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    query = case.query
    if not isinstance(query, dict) or not isinstance(query.get("wait_for"), str):
        return
    timeout = query.get("timeout")
    try:
        too_long = timeout is None or float(timeout) > LONG_POLL_SECONDS
    except (TypeError, ValueError):  # not a number: the worker answers 400 at once
        return
    if too_long:
        query["timeout"] = LONG_POLL_SECONDS
