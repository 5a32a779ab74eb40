"""Liveness and a short status of the process: version, store, resources, uptime.

Used by load balancers, the dashboard's header and the demo's start-up check.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from opsgraph.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/health", summary="Is the service up")
def health(runtime: RuntimeDep) -> dict[str, Any]:
    return runtime.health()
