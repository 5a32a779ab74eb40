"""Conversions between table rows and the domain objects of opsgraph.core.

Rows are read as ORM objects (or Core rows with the same attribute names) and written as dicts.
"""

from __future__ import annotations

import json
from typing import Any

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import (
    Anomaly,
    AnomalyStatus,
    AuditEvent,
    Dependency,
    DependencyKind,
    Event,
    Feedback,
    FeedbackVerdict,
    Incident,
    IncidentStatus,
    MaintenanceWindow,
    Resource,
    ResourceKind,
    Severity,
)
from opsgraph.store.tables import (
    AnomalyRow,
    AuditEventRow,
    DependencyRow,
    EventRow,
    FeedbackRow,
    IncidentRow,
    MaintenanceRow,
    ResourceRow,
)


def check_json(value: Any, field: str) -> Any:
    """`value` itself if it can be stored as JSON (no NaN, no sets, no objects)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(field, f"must be JSON-serialisable: {exc}") from exc
    return value


def resource_from_row(row: ResourceRow) -> Resource:
    return Resource(
        id=row.id,
        kind=ResourceKind(row.kind),
        name=row.name,
        provider=row.provider,
        region=row.region,
        tags=dict(row.tags),
        attrs=dict(row.attrs),
    )


def resource_values(resource: Resource, now: float, where: str) -> dict[str, Any]:
    return {
        "id": resource.id,
        "kind": resource.kind.value,
        "name": resource.name,
        "provider": resource.provider,
        "region": resource.region,
        "tags": dict(resource.tags),
        "attrs": check_json(dict(resource.attrs), f"{where}.attrs"),
        "created_at": now,
        "updated_at": now,
    }


def dependency_from_row(row: DependencyRow) -> Dependency:
    return Dependency(
        source=row.source_id,
        target=row.target_id,
        kind=DependencyKind(row.kind),
        inferred=row.inferred,
    )


def dependency_values(dep: Dependency) -> dict[str, Any]:
    return {
        "source_id": dep.source,
        "target_id": dep.target,
        "kind": dep.kind.value,
        "inferred": dep.inferred,
    }


def anomaly_from_row(row: AnomalyRow) -> Anomaly:
    return Anomaly(
        id=row.id,
        resource_id=row.resource_id,
        metric=row.metric,
        detector=row.detector,
        start_ts=row.start_ts,
        last_ts=row.last_ts,
        end_ts=row.end_ts,
        score=row.score,
        max_score=row.max_score,
        severity=Severity(row.severity),
        value=row.value,
        expected=row.expected,
        status=AnomalyStatus(row.status),
        incident_id=row.incident_id,
        fingerprint=row.fingerprint,
        duplicate_of=row.duplicate_of,
        silence_id=row.silence_id,
        reason=row.reason,
    )


#: The fields of an anomaly that `write_batch` updates on an existing row.
ANOMALY_UPDATE_FIELDS: tuple[str, ...] = (
    "last_ts",
    "end_ts",
    "score",
    "max_score",
    "severity",
    "value",
    "expected",
    "status",
)


def anomaly_values(anomaly: Anomaly) -> dict[str, Any]:
    """Every column but the id, for an insert."""
    return {
        "resource_id": anomaly.resource_id,
        "metric": anomaly.metric,
        "detector": anomaly.detector,
        "start_ts": anomaly.start_ts,
        "last_ts": anomaly.last_ts,
        "end_ts": anomaly.end_ts,
        "score": anomaly.score,
        "max_score": anomaly.max_score,
        "severity": anomaly.severity.value,
        "value": anomaly.value,
        "expected": anomaly.expected,
        "status": anomaly.status.value,
        "incident_id": anomaly.incident_id,
        "fingerprint": anomaly.fingerprint,
        "duplicate_of": anomaly.duplicate_of,
        "silence_id": anomaly.silence_id,
        "reason": anomaly.reason,
    }


def event_from_row(row: EventRow) -> Event:
    return Event(
        id=row.id,
        ts=row.ts,
        kind=row.kind,
        resource_id=row.resource_id,
        severity=None if row.severity is None else Severity(row.severity),
        message=row.message,
        payload=dict(row.payload),
    )


def event_values(event: Event, where: str) -> dict[str, Any]:
    return {
        "ts": event.ts,
        "kind": event.kind,
        "resource_id": event.resource_id,
        "severity": None if event.severity is None else event.severity.value,
        "message": event.message,
        "payload": check_json(dict(event.payload), f"{where}.payload"),
    }


def incident_from_row(row: IncidentRow) -> Incident:
    return Incident(
        id=row.id,
        title=row.title,
        status=IncidentStatus(row.status),
        severity=Severity(row.severity),
        opened_ts=row.opened_ts,
        resolved_ts=row.resolved_ts,
        root_resource_id=row.root_resource_id,
        resource_ids=list(row.resource_ids),
        summary=row.summary,
        updated_ts=row.updated_ts,
        acknowledged_ts=row.acknowledged_ts,
        acknowledged_by=row.acknowledged_by,
        root_confidence=row.root_confidence,
        hypotheses=list(row.hypotheses or []),
    )


def incident_values(incident: Incident) -> dict[str, Any]:
    """Every column but the id."""
    return {
        "title": incident.title,
        "status": incident.status.value,
        "severity": incident.severity.value,
        "opened_ts": incident.opened_ts,
        "resolved_ts": incident.resolved_ts,
        "root_resource_id": incident.root_resource_id,
        "resource_ids": list(incident.resource_ids),
        "summary": incident.summary,
        "updated_ts": incident.updated_ts,
        "acknowledged_ts": incident.acknowledged_ts,
        "acknowledged_by": incident.acknowledged_by,
        "root_confidence": incident.root_confidence,
        "hypotheses": check_json(list(incident.hypotheses), "incident.hypotheses"),
    }


def audit_from_row(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        ts=row.ts,
        actor=row.actor,
        action=row.action,
        target=row.target,
        reason=row.reason,
        inputs=dict(row.inputs),
        result=dict(row.result),
    )


def audit_values(event: AuditEvent) -> dict[str, Any]:
    return {
        "ts": event.ts,
        "actor": event.actor,
        "action": event.action,
        "target": event.target,
        "reason": event.reason,
        "inputs": check_json(dict(event.inputs), "event.inputs"),
        "result": check_json(dict(event.result), "event.result"),
    }


def feedback_from_row(row: FeedbackRow) -> Feedback:
    return Feedback(
        id=row.id,
        anomaly_id=row.anomaly_id,
        resource_id=row.resource_id,
        metric=row.metric,
        verdict=FeedbackVerdict(row.verdict),
        score=row.score,
        note=row.note,
        actor=row.actor,
        ts=row.ts,
    )


def window_from_row(row: MaintenanceRow) -> MaintenanceWindow:
    return MaintenanceWindow(
        id=row.id,
        resource_ids=list(row.resource_ids),
        start_ts=row.start_ts,
        end_ts=row.end_ts,
        reason=row.reason,
        actor=row.actor,
        created_ts=row.created_ts,
    )
