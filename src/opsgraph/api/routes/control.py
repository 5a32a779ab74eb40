"""Operator control of detection: feedback on anomalies, maintenance windows, the calendar.

A false positive raises that series' threshold; a maintenance window mutes resources for a
time range. Both are stored, audited and survive restarts.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from opsgraph.api.deps import RuntimeDep, StoreDep
from opsgraph.api.routes.common import Limit, Offset, Page, RowId
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import CalendarEvent, Feedback, FeedbackVerdict, MaintenanceWindow

router = APIRouter(tags=["detection control"])


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: FeedbackVerdict
    note: str = Field(default="", max_length=2000)
    actor: str = Field(default="api", min_length=1, max_length=200)


class MaintenanceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resource_ids: list[str] = Field(min_length=1, max_length=10_000)
    start_ts: float | None = Field(default=None, allow_inf_nan=False)
    end_ts: float | None = Field(default=None, allow_inf_nan=False)
    duration_s: float | None = Field(default=None, gt=0, le=366 * 86_400, allow_inf_nan=False)
    reason: str = Field(default="", max_length=2000)
    actor: str = Field(default="api", min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_end(self) -> MaintenanceRequest:
        if (self.end_ts is None) == (self.duration_s is None):
            raise ValueError("give exactly one of end_ts and duration_s")
        return self


@router.post(
    "/anomalies/{anomaly_id}/feedback",
    status_code=status.HTTP_201_CREATED,
    summary="Mark an anomaly false positive or confirmed",
)
def give_feedback(
    anomaly_id: RowId, request: FeedbackRequest, runtime: RuntimeDep
) -> dict[str, Any]:
    feedback, threshold = runtime.operator.give_feedback(
        anomaly_id, request.verdict, note=request.note, actor=request.actor
    )
    return {"feedback": feedback.model_dump(mode="json"), "series_threshold": threshold}


@router.get("/feedback", summary="Feedback given, newest first")
def list_feedback(
    store: StoreDep,
    anomaly_id: RowId | None = None,
    resource_id: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[Feedback]:
    items, total = store.list_feedback(
        anomaly_id=anomaly_id, resource_id=resource_id, limit=limit, offset=offset
    )
    return Page[Feedback](items=items, total=total, limit=limit, offset=offset)


@router.post(
    "/maintenance", status_code=status.HTTP_201_CREATED, summary="Mute resources for a time range"
)
def add_maintenance(request: MaintenanceRequest, runtime: RuntimeDep) -> MaintenanceWindow:
    start = request.start_ts if request.start_ts is not None else runtime.now()
    end = request.end_ts if request.end_ts is not None else start + float(request.duration_s or 0)
    if end <= start:
        raise InvalidInputError("end_ts", "must be after start_ts")
    return runtime.operator.add_maintenance(
        MaintenanceWindow(
            resource_ids=request.resource_ids,
            start_ts=start,
            end_ts=end,
            reason=request.reason,
            actor=request.actor,
            created_ts=time.time(),
        )
    )


@router.get("/maintenance", summary="Maintenance windows")
def list_maintenance(
    store: StoreDep, runtime: RuntimeDep, active: bool = False
) -> list[MaintenanceWindow]:
    if not active:
        return store.list_maintenance()
    now = runtime.now()
    return [w for w in store.list_maintenance(ending_after=now) if w.active_at(now)]


@router.delete(
    "/maintenance/{window_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a maintenance window",
)
def delete_maintenance(window_id: RowId, runtime: RuntimeDep) -> Response:
    runtime.operator.delete_maintenance(window_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/calendar", summary="Business events that detection takes into account")
def list_calendar(
    runtime: RuntimeDep,
    active: bool = False,
    upcoming: bool = False,
    limit: Limit = 100,
) -> list[CalendarEvent]:
    """Configured events (detect.calendar) and the simulated estate's own, by start time:
    only those in force now with `active`, only those not over yet with `upcoming`."""
    events = runtime.ingestor.calendar.events
    now = runtime.now()
    if active:
        events = [e for e in events if e.active_at(now)]
    if upcoming:
        events = [e for e in events if e.end_ts > now]
    return events[:limit]
