"""Anomalies: paginated and filtered by severity, resource, status and time, or one by id.

Newest first; an anomaly is an episode of one series with its peak score and severity.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from opsgraph.api.deps import ActorDep, RuntimeDep, StoreDep
from opsgraph.api.routes.common import Limit, Offset, Page, RowId, TimeBound
from opsgraph.core.models import Anomaly, AnomalyStatus, Severity
from opsgraph.runtime.root import Runtime

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
    q: Annotated[
        str | None,
        Query(description="Resource id or metric contains this (ignoring case).", max_length=200),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[Anomaly]:
    items, total = store.list_anomalies(
        severities=severity,
        resource_id=resource_id,
        status=status,
        start=start,
        end=end,
        q=q,
        limit=limit,
        offset=offset,
    )
    return Page[Anomaly](items=items, total=total, limit=limit, offset=offset)


@router.get("/stats", summary="Anomalies by status and severity")
def anomaly_stats(
    store: StoreDep, start: TimeBound = None, end: TimeBound = None
) -> dict[str, Any]:
    """Counts of anomalies overlapping [start, end] by status and severity, and totals;
    `by_status_severity` has every status and severity, zeros included."""
    by_status = store.anomaly_stats(start=start, end=end)
    severity: dict[str, int] = {s.value: 0 for s in Severity}
    for counts in by_status.values():
        for name, n in counts.items():
            severity[name] = severity.get(name, 0) + n
    return {
        "total": sum(severity.values()),
        "by_severity": severity,
        "by_status": {s.value: sum(by_status.get(s.value, {}).values()) for s in AnomalyStatus},
        "open_by_severity": {s.value: by_status.get("open", {}).get(s.value, 0) for s in Severity},
        "by_status_severity": {
            st.value: {s.value: by_status.get(st.value, {}).get(s.value, 0) for s in Severity}
            for st in AnomalyStatus
        },
    }


@router.get("/{anomaly_id}", summary="One anomaly")
def get_anomaly(anomaly_id: RowId, store: StoreDep) -> Anomaly:
    return store.get_anomaly(anomaly_id)


@router.get("/{anomaly_id}/explain", summary="Root causes, cascade path and evidence")
def explain_anomaly(anomaly_id: RowId, runtime: RuntimeDep) -> dict[str, Any]:
    """Ranks the likely root causes around the anomaly's resource from the recorded metrics:
    hypotheses with confidence and evidence, the cascade path, the importance of the
    resource's own signals, and a one-line summary. Cached while the anomaly is unchanged."""
    return runtime.explanations.explain(anomaly_id)


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=2000)


def _change(
    runtime: Runtime, anomaly_id: int, status: AnomalyStatus, body: StatusChange | None, who: str
) -> Anomaly:
    note = body.note if body is not None else ""
    return runtime.operator.set_anomaly_status(anomaly_id, status, actor=who, note=note)


@router.patch("/{anomaly_id}/resolve", summary="Resolve an anomaly by hand")
def resolve_anomaly(
    anomaly_id: RowId, runtime: RuntimeDep, who: ActorDep, body: StatusChange | None = None
) -> Anomaly:
    """Ends the episode; if the series is still abnormal, detection opens a new anomaly."""
    return _change(runtime, anomaly_id, AnomalyStatus.RESOLVED, body, who)


@router.patch("/{anomaly_id}/acknowledge", summary="Acknowledge an anomaly")
def acknowledge_anomaly(
    anomaly_id: RowId, runtime: RuntimeDep, who: ActorDep, body: StatusChange | None = None
) -> Anomaly:
    return _change(runtime, anomaly_id, AnomalyStatus.ACKNOWLEDGED, body, who)


@router.patch("/{anomaly_id}/reopen", summary="Reopen a resolved or acknowledged anomaly")
def reopen_anomaly(
    anomaly_id: RowId, runtime: RuntimeDep, who: ActorDep, body: StatusChange | None = None
) -> Anomaly:
    return _change(runtime, anomaly_id, AnomalyStatus.OPEN, body, who)
