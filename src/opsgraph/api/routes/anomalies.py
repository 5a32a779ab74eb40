"""Anomalies: paginated and filtered by severity, resource, status and time, or one by id.

Newest first; an anomaly is an episode of one series with its peak score and severity.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from opsgraph.api.deps import RuntimeDep, StoreDep
from opsgraph.api.routes.common import Limit, Offset, Page, TimeBound
from opsgraph.core.models import Anomaly, AnomalyStatus, Severity

router = APIRouter(prefix="/anomalies", tags=["anomalies"])


@router.get("", summary="List anomalies, newest first")
def list_anomalies(
    store: StoreDep,
    severity: Annotated[
        list[Severity] | None, Query(description="Repeat to allow several.")
    ] = None,
    resource_id: str | None = None,
    status: AnomalyStatus | None = None,
    start: TimeBound = None,
    end: TimeBound = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[Anomaly]:
    items, total = store.list_anomalies(
        severities=severity,
        resource_id=resource_id,
        status=status,
        start=start,
        end=end,
        limit=limit,
        offset=offset,
    )
    return Page[Anomaly](items=items, total=total, limit=limit, offset=offset)


@router.get("/{anomaly_id}", summary="One anomaly")
def get_anomaly(anomaly_id: int, store: StoreDep) -> Anomaly:
    return store.get_anomaly(anomaly_id)


@router.get("/{anomaly_id}/explain", summary="Root causes, cascade path and evidence")
def explain_anomaly(anomaly_id: int, runtime: RuntimeDep) -> dict[str, Any]:
    """Ranks the likely root causes around the anomaly's resource from the recorded metrics:
    hypotheses with confidence and evidence, the cascade path, the importance of the
    resource's own signals, and a one-line summary. Cached while the anomaly is unchanged."""
    return runtime.explain(anomaly_id)
