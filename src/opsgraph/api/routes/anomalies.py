"""Anomalies: paged by cursor (or offset) and filtered by severity, resource, status, incident
and time, or one by id.

Newest first by the episode's start; an anomaly is an episode of one series with its peak score
and severity, and each listed one says why it is one (`why`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from opsgraph.alerts.why import why
from opsgraph.api.deps import ActorDep, RuntimeDep, StoreDep
from opsgraph.api.routes.common import MAX_ROW_ID, CursorPage, Limit, Offset, RowId, TimeBound
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Anomaly, AnomalyStatus, Severity
from opsgraph.detect.settings import DetectSettings
from opsgraph.runtime.root import Runtime
from opsgraph.store import AnomalyKey

router = APIRouter(prefix="/anomalies", tags=["anomalies"])


class ListedAnomaly(Anomaly):
    """An anomaly as listed: with `why`, one line saying why it is one (alerts/why.py)."""

    why: str = ""


def listed(anomaly: Anomaly, detect: DetectSettings) -> ListedAnomaly:
    return ListedAnomaly(**dict(anomaly), why=why(anomaly, detect))


def encode_cursor(direction: str, key: AnomalyKey) -> str:
    """Opaque to clients: the direction ("o" older, "n" newer) and the key of the edge row."""
    raw = json.dumps([direction, key.start_ts, key.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[bool, AnomalyKey]:
    """(newer, key) of a cursor this API gave; InvalidInputError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        direction, start_ts, row_id = json.loads(raw)
        if direction not in ("o", "n") or isinstance(row_id, bool) or isinstance(start_ts, bool):
            raise ValueError(direction)
        key = AnomalyKey(float(start_ts), int(row_id))
        if not math.isfinite(key.start_ts) or not 0 <= key.id <= MAX_ROW_ID:
            raise ValueError(key)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInputError("cursor", "is not a cursor given by GET /anomalies") from exc
    return direction == "n", key


@router.get("", summary="List anomalies, newest first, by cursor or offset")
def list_anomalies(
    store: StoreDep,
    runtime: RuntimeDep,
    severity: Annotated[
        list[Severity] | None, Query(description="Repeat to allow several.")
    ] = None,
    resource_id: str | None = None,
    status: AnomalyStatus | None = None,
    incident_id: Annotated[
        int | None, Query(ge=1, le=MAX_ROW_ID, description="Only this incident's anomalies.")
    ] = None,
    start: TimeBound = None,
    end: TimeBound = None,
    q: Annotated[
        str | None,
        Query(description="Resource id or metric contains this (ignoring case).", max_length=200),
    ] = None,
    limit: Limit = 50,
    cursor: Annotated[
        str | None,
        Query(
            max_length=200,
            description="next_cursor or prev_cursor of an earlier page (not with offset).",
        ),
    ] = None,
    offset: Offset = 0,
) -> CursorPage[ListedAnomaly]:
    """Newest first by the episode's start, then id. Page with `next_cursor` (older) and
    `prev_cursor` (newer): while anomalies arrive no row repeats and none is skipped. `offset`
    still works; its pages shift as rows arrive. Each item says `why` it is an anomaly."""
    if cursor is not None and offset:
        raise InvalidInputError("offset", "give cursor or offset, not both")
    filters: dict[str, Any] = {
        "severities": severity,
        "resource_id": resource_id,
        "status": status,
        "incident_id": incident_id,
        "start": start,
        "end": end,
        "q": q,
    }
    detect = runtime.settings.detect
    if offset:
        items, total = store.list_anomalies(**filters, limit=limit, offset=offset)
        keys = [AnomalyKey(a.start_ts, a.id or 0) for a in items]
        more = offset + len(items) < total
        return CursorPage[ListedAnomaly](
            items=[listed(a, detect) for a in items],
            total=total,
            limit=limit,
            offset=offset,
            next_cursor=encode_cursor("o", keys[-1]) if keys and more else None,
            prev_cursor=encode_cursor("n", keys[0]) if keys else None,
        )
    newer, key = decode_cursor(cursor) if cursor is not None else (False, None)
    page = store.page_anomalies(**filters, limit=limit, key=key, newer=newer)
    first = page.keys[0] if page.keys else key
    last = page.keys[-1] if page.keys else key
    return CursorPage[ListedAnomaly](
        items=[listed(a, detect) for a in page.items],
        total=page.total,
        limit=limit,
        offset=page.position,
        next_cursor=encode_cursor("o", last) if page.has_older and last else None,
        prev_cursor=encode_cursor("n", first) if page.has_newer and first else None,
    )


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


@router.get("/{anomaly_id}", summary="One anomaly, with why it is one")
def get_anomaly(anomaly_id: RowId, store: StoreDep, runtime: RuntimeDep) -> ListedAnomaly:
    return listed(store.get_anomaly(anomaly_id), runtime.settings.detect)


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
