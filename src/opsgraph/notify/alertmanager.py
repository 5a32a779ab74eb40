"""Alertmanager's webhook format (version 4) both ways: the notifier that POSTs it, and the
conversion of a real Alertmanager's notification into `ExternalAlert`s (POST /alerts/alertmanager).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import RESOURCE_ID_RE
from opsgraph.core.models import ExternalAlert, Severity
from opsgraph.notify.base import Notification, rfc3339
from opsgraph.notify.convert import fingerprint as make_fingerprint
from opsgraph.notify.http import post_json
from opsgraph.notify.settings import AlertmanagerReceiver

#: Alertmanager writes Go's zero time as the end of an alert that has none.
ZERO_TIME = "0001-01-01T00:00:00Z"

#: Labels whose value names the resource an incoming alert is about, first present wins.
RESOURCE_LABELS = ("resource", "instance", "job")
#: Resource of an incoming alert that has none of RESOURCE_LABELS.
FALLBACK_RESOURCE = "alertmanager"

#: Common severity words of alerting rules, mapped onto opsgraph's severities.
SEVERITY_ALIASES: dict[str, Severity] = {
    "info": Severity.LOW,
    "informational": Severity.LOW,
    "notice": Severity.LOW,
    "debug": Severity.LOW,
    "none": Severity.LOW,
    "p4": Severity.LOW,
    "p5": Severity.LOW,
    "warning": Severity.MEDIUM,
    "warn": Severity.MEDIUM,
    "minor": Severity.MEDIUM,
    "moderate": Severity.MEDIUM,
    "p3": Severity.MEDIUM,
    "error": Severity.HIGH,
    "major": Severity.HIGH,
    "severe": Severity.HIGH,
    "p2": Severity.HIGH,
    "page": Severity.CRITICAL,
    "crit": Severity.CRITICAL,
    "fatal": Severity.CRITICAL,
    "emergency": Severity.CRITICAL,
    "disaster": Severity.CRITICAL,
    "p1": Severity.CRITICAL,
}

_NOT_ID = re.compile(r"[^A-Za-z0-9_.:@-]+")
_NOT_METRIC = re.compile(r"[^A-Za-z0-9_:.]+")


class WebhookAlert(BaseModel):
    """One alert of an Alertmanager webhook notification."""

    # Later Alertmanager versions may add fields; the ones we read keep their meaning.
    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: dt.datetime
    endsAt: dt.datetime | None = None
    generatorURL: str = ""
    fingerprint: str = Field(default="", max_length=200)


class WebhookMessage(BaseModel):
    """An Alertmanager webhook notification, version 4."""

    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    groupKey: str
    truncatedAlerts: int = Field(default=0, ge=0)
    status: Literal["firing", "resolved"]
    receiver: str
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[WebhookAlert] = Field(min_length=1, max_length=10_000)


# -- out ----------------------------------------------------------------------------------
def _group_key(labels: dict[str, str]) -> str:
    # Alertmanager's form: the route's matchers, then the group's labels.
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{{}}:{{{inner}}}"


def webhook_payload(notification: Notification, receiver: str) -> dict[str, Any]:
    """The version-4 JSON Alertmanager would POST for this one alert."""
    n = notification
    ends = rfc3339(n.ends_at) if n.status == "resolved" and n.ends_at is not None else ZERO_TIME
    group: dict[str, str] = {k: n.labels[k] for k in ("alertname", "resource") if k in n.labels}
    alert = {
        "status": n.status,
        "labels": dict(n.labels),
        "annotations": dict(n.annotations),
        "startsAt": rfc3339(n.starts_at),
        "endsAt": ends,
        "generatorURL": n.link or n.base_url,
        "fingerprint": n.fingerprint,
    }
    return {
        "version": "4",
        "groupKey": _group_key(group),
        "truncatedAlerts": 0,
        "status": n.status,
        "receiver": receiver,
        "groupLabels": group,
        "commonLabels": dict(n.labels),
        "commonAnnotations": dict(n.annotations),
        "externalURL": n.base_url,
        "alerts": [alert],
    }


class AlertmanagerNotifier:
    """POSTs each notification as an Alertmanager webhook notification of one alert."""

    def __init__(
        self,
        settings: AlertmanagerReceiver,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = settings.name
        self.settings = settings
        self.transport = transport

    async def send(self, notification: Notification) -> None:
        payload = webhook_payload(notification, self.name)
        await post_json(self.settings, payload, transport=self.transport)


# -- in -----------------------------------------------------------------------------------
def resource_id_from(raw: str) -> str | None:
    """A label value made into a resource id (letters, digits and _ . : @ -), or None."""
    cleaned = _NOT_ID.sub("-", raw.strip()).lstrip("_.:@-")[:200]
    return cleaned if cleaned and RESOURCE_ID_RE.match(cleaned) else None


def metric_from(alertname: str) -> str:
    """An alert name made into a metric name ([a-zA-Z_][a-zA-Z0-9_:.]*)."""
    cleaned = _NOT_METRIC.sub("_", alertname.strip())
    if not cleaned or not (cleaned[0].isalpha() or cleaned[0] == "_"):
        cleaned = f"_{cleaned}"
    return cleaned[:128]


def severity_from(label: str | None) -> Severity:
    """The severity label mapped onto opsgraph's severities; medium when absent or unknown."""
    if not label:
        return Severity.MEDIUM
    word = label.strip().lower()
    own = {s.value: s for s in Severity}
    return own.get(word) or SEVERITY_ALIASES.get(word, Severity.MEDIUM)


def _timestamp(moment: dt.datetime) -> float:
    if moment.tzinfo is None:  # Alertmanager writes offsets; a bare time is taken as UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def _value(annotations: dict[str, str], firing: bool) -> float:
    # Our own webhook out carries the measured value; others get 1 while firing, 0 after.
    try:
        value = float(annotations.get("value", ""))
    except ValueError:
        return 1.0 if firing else 0.0
    return value if math.isfinite(value) else (1.0 if firing else 0.0)


def to_external_alerts(message: WebhookMessage, *, now: float) -> list[ExternalAlert]:
    """Each alert of the notification as an ExternalAlert (source "alertmanager")."""
    alerts = []
    for i, alert in enumerate(message.alerts):
        name = alert.labels.get("alertname", "").strip()
        if not name:
            raise InvalidInputError(f"alerts[{i}].labels.alertname", "is required and not empty")
        resource = next(
            (
                rid
                for key in RESOURCE_LABELS
                if alert.labels.get(key) and (rid := resource_id_from(alert.labels[key]))
            ),
            FALLBACK_RESOURCE,
        )
        firing = alert.status == "firing"
        ends_at = None
        if not firing:
            ended = alert.endsAt
            ends_at = _timestamp(ended) if ended is not None and ended.year > 1 else now
        alerts.append(
            ExternalAlert(
                source="alertmanager",
                fingerprint=alert.fingerprint or make_fingerprint(*sorted(alert.labels.items())),
                name=name[:200],
                resource_id=resource,
                metric=metric_from(name),
                firing=firing,
                severity=severity_from(alert.labels.get("severity")),
                starts_at=_timestamp(alert.startsAt),
                ends_at=ends_at,
                value=_value(alert.annotations, firing),
                labels=dict(alert.labels),
                annotations=dict(alert.annotations),
            )
        )
    return alerts
