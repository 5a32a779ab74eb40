"""CloudWatch alarms as alerts: DescribeAlarms polled for state changes, and the one mapping
from an alarm's state to an ExternalAlert that the EventBridge endpoint shares.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from opsgraph.core.models import ExternalAlert, Resource, ResourceKind, Severity
from opsgraph.sources.aws import ClientFactory, _pages, _rid
from opsgraph.sources.cloudwatch import epoch_of, metric_name, resource_for
from opsgraph.sources.pull import Batch
from opsgraph.sources.settings import CloudWatchSettings

log = logging.getLogger("opsgraph.sources.cloudwatch")

ALARM_STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")
#: The metric of an alert from an alarm that watches no single metric (composite, expression).
ALARM_METRIC = "cw_alarm"


@dataclass(frozen=True, slots=True)
class AlarmState:
    """An alarm in one state, whichever way it was learnt (DescribeAlarms, EventBridge)."""

    arn: str
    name: str
    state: str  # ALARM | OK | INSUFFICIENT_DATA
    updated_at: float  # when it entered this state
    region: str
    namespace: str = ""
    metric: str = ""  # empty: the alarm watches no single metric
    stat: str | None = None
    dimensions: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""
    description: str = ""
    value: float | None = None  # the latest data point it judged, when it says
    started_at: float | None = None  # when it went into ALARM, for a resolved alert
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SeverityRules:
    """An alarm's severity: its severity tag, else the first matching tag rule, else the
    first matching name glob, else the default."""

    default: Severity = Severity.HIGH
    tag: str | None = "severity"
    by_tag: Mapping[str, Severity] = field(default_factory=dict)  # "key=value" -> severity
    by_name: Mapping[str, Severity] = field(default_factory=dict)  # glob -> severity

    @classmethod
    def from_settings(cls, cfg: CloudWatchSettings) -> SeverityRules:
        return cls(
            cfg.default_severity, cfg.severity_tag, cfg.severity_by_tag, cfg.severity_by_name
        )

    @property
    def uses_tags(self) -> bool:
        return bool(self.tag or self.by_tag)

    def pick(self, name: str, tags: Mapping[str, str]) -> Severity:
        if self.tag:
            named = tags.get(self.tag, "").strip().lower()
            if named in {s.value for s in Severity}:
                return Severity(named)
        for rule, severity in self.by_tag.items():
            key, value = rule.split("=", 1)
            if tags.get(key) == value:
                return severity
        for pattern, severity in self.by_name.items():
            if fnmatchcase(name, pattern):
                return severity
        return self.default


def recent_value(reason_data: str | None) -> float | None:
    """The latest data point an alarm's StateReasonData (JSON) lists, if any."""
    try:
        data = json.loads(reason_data or "")
    except ValueError:
        return None
    points = data.get("recentDatapoints") if isinstance(data, dict) else None
    if isinstance(points, list) and points and isinstance(points[-1], int | float):
        value = float(points[-1])
        return value if math.isfinite(value) else None
    return None


def _fingerprint(arn: str) -> str:
    # ExternalAlert fingerprints hold 200 characters; alarm ARNs can be longer.
    if len(arn) <= 200:
        return arn
    return f"{arn[:135]}#{hashlib.sha256(arn.encode()).hexdigest()}"


def alarm_alert(alarm: AlarmState, rules: SeverityRules) -> tuple[ExternalAlert, Resource]:
    """The alert an alarm's state gives (firing in ALARM, resolved otherwise) and the resource
    it is about, named as AWS discovery names it (see sources/cloudwatch.py)."""
    if alarm.metric:
        resource = resource_for(alarm.namespace, alarm.dimensions, alarm.region)
        metric = metric_name(alarm.namespace, alarm.metric, alarm.stat)
    else:
        resource = Resource(
            id=_rid("alarm", alarm.name),
            kind=ResourceKind.GENERIC,
            name=alarm.name,
            provider="aws",
            region=alarm.region,
            attrs={"arn": alarm.arn},
        )
        metric = ALARM_METRIC
    firing = alarm.state == "ALARM"
    labels = {
        **alarm.dimensions,
        "alarm_name": alarm.name,
        "state": alarm.state,
        "region": alarm.region,
    }
    if alarm.metric:
        labels |= {"namespace": alarm.namespace, "metric_name": alarm.metric}
    annotations = {"reason": alarm.reason, "description": alarm.description}
    alert = ExternalAlert(
        source="cloudwatch",
        fingerprint=_fingerprint(alarm.arn),
        name=alarm.name[:200],
        resource_id=resource.id,
        metric=metric,
        firing=firing,
        severity=rules.pick(alarm.name, alarm.tags),
        starts_at=alarm.updated_at if firing else (alarm.started_at or alarm.updated_at),
        ends_at=None if firing else alarm.updated_at,
        value=alarm.value if alarm.value is not None else float(firing),
        labels=labels,
        annotations={k: v for k, v in annotations.items() if v},
    )
    return alert, resource


def state_from_description(alarm: Mapping[str, Any], region: str) -> AlarmState:
    """An AlarmState from one MetricAlarms entry of DescribeAlarms."""
    namespace, metric = alarm.get("Namespace", ""), alarm.get("MetricName", "")
    dims = alarm.get("Dimensions", [])
    stat = alarm.get("Statistic") or alarm.get("ExtendedStatistic")
    if not metric:  # metric math: the first metric it reads names the resource
        for entry in alarm.get("Metrics", []):
            if "MetricStat" in entry:
                stat_spec = entry["MetricStat"]
                namespace = stat_spec["Metric"].get("Namespace", "")
                metric = stat_spec["Metric"].get("MetricName", "")
                dims = stat_spec["Metric"].get("Dimensions", [])
                stat = stat_spec.get("Stat")
                break
    updated = alarm.get("StateUpdatedTimestamp")
    return AlarmState(
        arn=alarm["AlarmArn"],
        name=alarm["AlarmName"],
        state=alarm["StateValue"],
        updated_at=epoch_of(updated) if isinstance(updated, datetime) else time.time(),
        region=region,
        namespace=namespace,
        metric=metric,
        stat=stat,
        dimensions={d["Name"]: d["Value"] for d in dims},
        reason=alarm.get("StateReason", ""),
        description=alarm.get("AlarmDescription", ""),
        value=recent_value(alarm.get("StateReasonData")),
    )


class CloudWatchAlarmSource:
    """Polls DescribeAlarms (metric alarms) and turns changes into alerts: an alarm entering
    ALARM fires, leaving it (or being deleted) resolves. OK <-> INSUFFICIENT_DATA says nothing."""

    name = "cloudwatch-alarms"

    def __init__(
        self,
        settings: CloudWatchSettings,
        clients: ClientFactory,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.interval_s = settings.interval_s
        self.rules = SeverityRules.from_settings(settings)
        self.clients = clients
        self.clock = clock
        self._clients: dict[str, Any] = {}
        self._known: dict[str, AlarmState] = {}  # by ARN, as last seen (firing ones with tags)

    def _client(self, region: str) -> Any:
        if region not in self._clients:
            self._clients[region] = self.clients("cloudwatch", region)
        return self._clients[region]

    def _tags(self, alarm: AlarmState) -> dict[str, str]:
        from botocore.exceptions import BotoCoreError, ClientError

        if not self.rules.uses_tags:
            return {}
        try:
            out = self._client(alarm.region).list_tags_for_resource(ResourceARN=alarm.arn)
        except (BotoCoreError, ClientError) as exc:  # no tag permission: rules by name still work
            log.warning("cloudwatch: tags of %s: %s", alarm.name, exc)
            return {}
        return {t["Key"]: t.get("Value", "") for t in out.get("Tags", [])}

    def describe(self) -> dict[str, AlarmState]:
        extra = (
            {"AlarmNamePrefix": self.settings.alarm_prefix} if self.settings.alarm_prefix else {}
        )
        current = {}
        for region in self.settings.regions:
            client = self._client(region)
            for raw in _pages(
                client, "describe_alarms", "MetricAlarms", AlarmTypes=["MetricAlarm"], **extra
            ):
                alarm = state_from_description(raw, region)
                current[alarm.arn] = alarm
        return current

    def poll(self) -> Batch:
        current = self.describe()
        changed: list[AlarmState] = []
        for arn, alarm in current.items():
            before = self._known.get(arn)
            was_firing = before is not None and before.state == "ALARM"
            if alarm.state == "ALARM" and not was_firing:
                alarm = replace(alarm, tags=self._tags(alarm))
                changed.append(alarm)
            elif alarm.state == "ALARM" and before is not None:
                alarm = replace(alarm, tags=before.tags, updated_at=before.updated_at)
            elif was_firing and before is not None:
                alarm = replace(alarm, tags=before.tags, started_at=before.updated_at)
                changed.append(alarm)
            current[arn] = alarm
        for arn, before in self._known.items():
            if arn not in current and before.state == "ALARM":  # deleted while firing
                changed.append(
                    replace(
                        before,
                        state="OK",
                        updated_at=self.clock(),
                        started_at=before.updated_at,
                        reason="alarm deleted",
                    )
                )
        self._known = current
        alerts, resources = [], {}
        for alarm in changed:
            alert, resource = alarm_alert(alarm, self.rules)
            alerts.append(alert)
            resources[resource.id] = resource
        return Batch(alerts=alerts, resources=list(resources.values()))
