"""Liveness and readiness: ``GET /health`` and ``GET /ready``."""

from __future__ import annotations

from typing import Any

from faust.web import Request, Response, View

from app.main import app

__all__ = ["HealthView", "ReadyView", "readiness"]


@app.page("/health")
class HealthView(View):
    """Liveness: the process runs and its event loop answers."""

    async def get(self, request: Request) -> Response:
        return self.json({"status": "ok"})


def readiness() -> dict[str, Any]:
    """Ready = table recovery finished and partitions are assigned (not rebalancing)."""
    recovery_done = app.tables.recovery.completed.is_set()  # type: ignore[attr-defined]
    assignment = (
        sorted(f"{tp.topic}:{tp.partition}" for tp in app.consumer.assignment())
        if app.consumer is not None
        else []
    )
    return {
        "ready": bool(recovery_done and assignment and not app.rebalancing),
        "recovery_done": recovery_done,
        "rebalancing": bool(app.rebalancing),
        "assigned_partitions": assignment,
    }


@app.page("/ready")
class ReadyView(View):
    """Readiness for load balancers and tests: 200 when ready, 503 otherwise."""

    async def get(self, request: Request) -> Response:
        state = readiness()
        return self.json(state, status=200 if state["ready"] else 503)
