"""Incidents (related anomalies grouped on the graph) and silences.

An incident's timeline says why each anomaly joined and who acknowledged, resolved or reopened
it; a silence mutes matching alerts and each muted anomaly names its silence. Who was notified
of an incident comes from the notifier's audit.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from opsgraph.api.deps import ActorDep, RuntimeDep, StoreDep
from opsgraph.api.routes.common import Limit, Offset, Page, RowId
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Incident, IncidentEvent, IncidentStatus, Matcher, Silence
from opsgraph.runtime.root import Runtime

router = APIRouter(tags=["incidents"])


class IncidentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: IncidentStatus | None = None
    note: str = Field(default="", max_length=4000)

    @model_validator(mode="after")
    def _something(self) -> IncidentChange:
        if self.status is None and not self.note:
            raise ValueError("give a status, a note, or both")
        return self


class NewSilence(BaseModel):
    model_config = ConfigDict(extra="forbid")
    matchers: list[Matcher] = Field(min_length=1, max_length=50)
    starts_ts: float | None = Field(default=None, allow_inf_nan=False)
    ends_ts: float | None = Field(default=None, allow_inf_nan=False)
    duration_s: float | None = Field(default=None, gt=0, le=366 * 86_400, allow_inf_nan=False)
    comment: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _one_end(self) -> NewSilence:
        if (self.ends_ts is None) == (self.duration_s is None):
            raise ValueError("give exactly one of ends_ts and duration_s")
        return self


@router.get("/incidents", summary="Incidents, newest first")
def list_incidents(
    store: StoreDep, status: IncidentStatus | None = None, limit: Limit = 50, offset: Offset = 0
) -> Page[Incident]:
    items, total = store.list_incidents(status=status, limit=limit, offset=offset)
    return Page[Incident](items=items, total=total, limit=limit, offset=offset)


@router.get("/incidents/{incident_id}", summary="One incident with its anomalies and timeline")
def get_incident(incident_id: RowId, runtime: RuntimeDep) -> dict[str, Any]:
    """Each anomaly carries its `role` seen from the incident's root (`cause`, `symptom` or
    `unexplained`) and `role_reason`; causes come first, then by peak score."""
    store = runtime.store
    incident = store.get_incident(incident_id)
    return {
        **incident.model_dump(mode="json"),
        "anomalies": runtime.alerts.members_with_roles(incident),
        "timeline": [e.model_dump(mode="json") for e in store.incident_timeline(incident_id)],
        "notifications": _notifications(runtime, incident_id),
    }


@router.get("/incidents/{incident_id}/notifications", summary="Who was notified of an incident")
def incident_notifications(incident_id: RowId, runtime: RuntimeDep) -> dict[str, Any]:
    """The notifier's audit about the incident and its anomalies, newest first: each send
    (`sent` or `failed`, with attempts) or suppression, its receiver and why. `configured`
    is false when no route sends anything (notify.routes is empty): then nobody is told."""
    runtime.store.get_incident(incident_id)  # 404 for an unknown incident
    return _notifications(runtime, incident_id)


def _notifications(runtime: Runtime, incident_id: int, limit: int = 50) -> dict[str, Any]:
    notify = runtime.settings.notify
    items = []
    for event in runtime.store.incident_notifications(incident_id, limit=limit):
        inputs, result = event.inputs, event.result
        items.append(
            {
                "ts": event.ts,
                "receiver": event.target,
                "outcome": result.get("status", "sent"),
                "attempts": result.get("attempts"),
                "type": inputs.get("type"),
                "title": inputs.get("title"),
                "alert_status": inputs.get("status"),
                "reason": event.reason,
            }
        )
    return {
        "configured": bool(notify.routes),
        "receivers": sorted({route.receiver for route in notify.routes}),
        "items": items,
    }


@router.get("/incidents/{incident_id}/timeline", summary="What happened to an incident, and why")
def incident_timeline(incident_id: RowId, store: StoreDep) -> list[IncidentEvent]:
    return store.incident_timeline(incident_id)


@router.patch("/incidents/{incident_id}", summary="Acknowledge, resolve or reopen; add a note")
def change_incident(
    incident_id: RowId, body: IncidentChange, runtime: RuntimeDep, who: ActorDep
) -> Incident:
    """A resolved incident is reopened only by hand: new alerts open a new incident."""
    incident = runtime.store.get_incident(incident_id)
    if body.status is not None:
        incident = runtime.alerts.set_incident_status(
            incident_id, body.status, actor=who, note=body.note
        )
    elif body.note:
        runtime.alerts.add_note(incident_id, actor=who, note=body.note)
    return incident


@router.post("/silences", status_code=status.HTTP_201_CREATED, summary="Mute matching alerts")
def add_silence(body: NewSilence, runtime: RuntimeDep, who: ActorDep) -> Silence:
    """Matchers work on labels: resource, metric, detector, severity, kind, region, provider
    and the resource's tags (equality, or a full-match regex with `regex: true`)."""
    start = body.starts_ts if body.starts_ts is not None else runtime.now()
    end = body.ends_ts if body.ends_ts is not None else start + float(body.duration_s or 0)
    if end <= start:
        raise InvalidInputError("ends_ts", "must be after starts_ts")
    return runtime.alerts.add_silence(
        Silence(
            matchers=body.matchers,
            starts_ts=start,
            ends_ts=end,
            comment=body.comment,
            created_by=who,
            created_ts=time.time(),
        )
    )


@router.get("/silences", summary="Silences (only those in force with active=true)")
def list_silences(store: StoreDep, runtime: RuntimeDep, active: bool = False) -> list[Silence]:
    if not active:
        return store.list_silences()
    now = runtime.now()
    return [s for s in store.list_silences(ending_after=now) if s.active_at(now)]


@router.delete("/silences/{silence_id}", summary="Expire a silence now")
def expire_silence(silence_id: RowId, runtime: RuntimeDep, who: ActorDep) -> Silence:
    return runtime.alerts.expire_silence(silence_id, actor=who)
