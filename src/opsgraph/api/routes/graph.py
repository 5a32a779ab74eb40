"""The resource graph with each node's latest metrics and anomaly state.

The dashboard draws it and then follows graph:update and metrics:update on the WebSocket.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from opsgraph.api.deps import RuntimeDep

router = APIRouter(tags=["graph"])


@router.get("/graph", summary="Nodes and edges with latest metrics and anomaly state")
def get_graph(runtime: RuntimeDep) -> dict[str, Any]:
    return runtime.estate.graph()
