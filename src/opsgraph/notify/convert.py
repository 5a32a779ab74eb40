"""Hub messages to notifications: anomalies, incidents and estate events become one `Notification`
with labels (kind, region, owner from the resource), a stable fingerprint, a summary and a link.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from opsgraph.core.models import (
    Anomaly,
    AnomalyStatus,
    Incident,
    IncidentStatus,
    Resource,
    Severity,
)
from opsgraph.notify.base import Notification, number
from opsgraph.notify.hub import Message

log = logging.getLogger("opsgraph.notify")

ResourceLookup = Callable[[str], Resource | None]

_NOT_LABEL = re.compile(r"[^A-Za-z0-9_]")

#: Resource tags that name who owns a resource, first present wins.
OWNER_TAGS = ("owner", "team")


def fingerprint(*parts: object) -> str:
    """16 hex digits identifying an alert over its life, as Alertmanager's fingerprints look."""
    key = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def owner_of(resource: Resource | None) -> str | None:
    if resource is None:
        return None
    return next((resource.tags[t] for t in OWNER_TAGS if resource.tags.get(t)), None)


def to_notification(
    message: Message, *, lookup: ResourceLookup, base_url: str
) -> Notification | None:
    """The notification for a message, or None for a message that is not about anything to
    notify (or whose data does not parse, which is logged)."""
    try:
        if message.type.startswith("anomaly:"):
            anomaly = Anomaly.model_validate(_known(Anomaly.model_fields, message.data))
            return _anomaly(message.type, anomaly, lookup, base_url)
        if message.type == "incident:update":
            incident = Incident.model_validate(_known(Incident.model_fields, message.data))
            event = message.data.get("event") if isinstance(message.data, dict) else None
            return _incident(incident, lookup, base_url, event=str(event or ""))
    except ValidationError as exc:
        log.warning("%s message does not parse, not notified: %s", message.type, exc)
        return None
    if message.type in ("fault:new", "action:applied", "automation:log"):
        if isinstance(message.data, dict):
            return _event(message.type, message.data, lookup, base_url)
        log.warning("%s message carries no object, not notified", message.type)
    return None


def _known(fields: Mapping[str, object], data: Any) -> Any:
    # Messages may carry more than the model (an incident's "event", say): keep what we know.
    return {k: v for k, v in data.items() if k in fields} if isinstance(data, dict) else data


def _link(base_url: str, resource_id: str | None) -> str:
    base = base_url.rstrip("/")
    return f"{base}/#resource={quote(resource_id, safe='')}" if resource_id else f"{base}/"


def _resource_labels(resource_id: str | None, lookup: ResourceLookup) -> dict[str, str]:
    """The resource's tags, then resource, kind, region, provider and owner (which tags cannot
    overwrite), as the alert lifecycle labels anomalies; empty values are left out."""
    if resource_id is None:
        return {}
    labels: dict[str, str] = {}
    resource = lookup(resource_id)
    if resource is not None:
        for key, value in resource.tags.items():
            # Alertmanager-style label names, so matchers and receivers can name them.
            name = _NOT_LABEL.sub("_", key)
            if name and not name[0].isdigit():
                labels[name] = value
        labels.update(
            kind=resource.kind.value,
            region=resource.region,
            provider=resource.provider,
            owner=owner_of(resource) or "",
        )
    labels["resource"] = resource_id
    return {k: v for k, v in labels.items() if v}


def _anomaly(type_: str, anomaly: Anomaly, lookup: ResourceLookup, base_url: str) -> Notification:
    resolved = type_ == "anomaly:resolved" or anomaly.status is AnomalyStatus.RESOLVED
    labels = {
        "alertname": anomaly.metric,
        **_resource_labels(anomaly.resource_id, lookup),
        "metric": anomaly.metric,
        "severity": anomaly.severity.value,
        "detector": anomaly.detector,
        "source": "opsgraph",
    }
    if anomaly.incident_id is not None:
        labels["incident"] = str(anomaly.incident_id)
    title = f"{anomaly.metric} anomaly on {anomaly.resource_id}"
    state = "was" if resolved else "is"
    summary = (
        f"{anomaly.metric} on {anomaly.resource_id} {state} {number(anomaly.value)} "
        f"(expected {number(anomaly.expected)}), score {anomaly.max_score:.2f}, "
        f"{anomaly.severity.value}"
    )
    link = _link(base_url, anomaly.resource_id)
    # The alert lifecycle's fingerprint says "same alert" across episodes; else the episode.
    if anomaly.fingerprint:
        key: tuple[object, ...] = ("anomaly", anomaly.fingerprint)
    elif anomaly.id is not None:
        key = ("anomaly", anomaly.id)
    else:
        key = ("anomaly", anomaly.resource_id, anomaly.metric, anomaly.detector, anomaly.start_ts)
    muted = None
    if anomaly.silence_id is not None:
        muted = f"silenced by silence {anomaly.silence_id}"
    elif anomaly.duplicate_of is not None:
        muted = f"duplicate of anomaly {anomaly.duplicate_of}"
    return Notification(
        type=type_,
        fingerprint=fingerprint(*key),
        status="resolved" if resolved else "firing",
        severity=anomaly.severity,
        title=title,
        summary=summary,
        labels=labels,
        annotations={
            "summary": title,
            "description": summary,
            "value": number(anomaly.value),
            "expected": number(anomaly.expected),
            "score": f"{anomaly.max_score:.2f}",
            "dashboard": link,
        },
        starts_at=anomaly.start_ts,
        ends_at=(anomaly.end_ts or anomaly.last_ts) if resolved else None,
        resource_id=anomaly.resource_id,
        metric=anomaly.metric,
        value=anomaly.value,
        expected=anomaly.expected,
        owner=labels.get("owner"),
        link=link,
        base_url=base_url,
        muted=muted,
        data=anomaly.model_dump(mode="json"),
    )


def _incident(
    incident: Incident, lookup: ResourceLookup, base_url: str, *, event: str
) -> Notification:
    """`event` is what changed (opened, grouped, acknowledged, reopened, resolved, note)."""
    resolved = incident.status is IncidentStatus.RESOLVED
    where = incident.root_resource_id or (
        incident.resource_ids[0] if incident.resource_ids else None
    )
    labels = {
        "alertname": "incident",
        **_resource_labels(where, lookup),
        "severity": incident.severity.value,
        "source": "opsgraph",
    }
    if incident.id is not None:
        labels["incident"] = str(incident.id)
    count = len(incident.resource_ids)
    summary = incident.summary or (
        f"{count} resource{'s' if count != 1 else ''} affected"
        + (f", root cause {incident.root_resource_id}" if incident.root_resource_id else "")
    )
    link = _link(base_url, where)
    key = (
        ("incident", incident.id)
        if incident.id is not None
        else ("incident", incident.title, incident.opened_ts)
    )
    return Notification(
        type="incident:update",
        fingerprint=fingerprint(*key),
        status="resolved" if resolved else "firing",
        severity=incident.severity,
        title=incident.title,
        summary=summary,
        labels=labels,
        annotations={"summary": incident.title, "description": summary, "dashboard": link}
        | ({"event": event} if event else {}),
        starts_at=incident.opened_ts,
        ends_at=(incident.resolved_ts or time.time()) if resolved else None,
        resource_id=where,
        owner=labels.get("owner"),
        link=link,
        base_url=base_url,
        acknowledged=incident.status is IncidentStatus.ACKNOWLEDGED,
        fresh="incident reopened" if event == "reopened" else None,
        data=incident.model_dump(mode="json") | ({"event": event} if event else {}),
    )


def _event(type_: str, data: dict[str, Any], lookup: ResourceLookup, base_url: str) -> Notification:
    # Faults, actions and automation logs are one-off events: always "firing", never resolved.
    resource_id = next(
        (str(data[k]) for k in ("resource_id", "root", "node", "target") if data.get(k)), None
    )
    severity = _severity(data.get("severity"))
    what = data.get("message") or data.get("kind") or data.get("action") or type_
    title = f"{type_}: {what}" + (
        f" on {resource_id}" if resource_id and resource_id not in str(what) else ""
    )
    ts = next(
        (float(data[k]) for k in ("ts", "start_ts") if isinstance(data.get(k), int | float)),
        time.time(),
    )
    labels = {
        "alertname": type_.replace(":", "_"),
        **_resource_labels(resource_id, lookup),
        "severity": severity.value,
        "source": "opsgraph",
    }
    ident = data.get("id")
    key = (
        (type_, ident)
        if ident is not None
        else (type_, json.dumps(data, sort_keys=True, default=str))
    )
    link = _link(base_url, resource_id)
    return Notification(
        type=type_,
        fingerprint=fingerprint(*key),
        status="firing",
        severity=severity,
        title=title,
        summary=str(what),
        labels=labels,
        annotations={"summary": title, "description": str(what), "dashboard": link},
        starts_at=ts,
        resource_id=resource_id,
        owner=labels.get("owner"),
        link=link,
        base_url=base_url,
        data=data,
    )


def _severity(value: Any) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        return Severity.LOW
