"""CloudWatch alarm state changes pushed by EventBridge (an API destination): each event becomes
an alert through the same mapping as the DescribeAlarms poller, and opens or closes an episode.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from annotated_types import Len
from fastapi import APIRouter, Body
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from opsgraph.api.deps import RuntimeDep
from opsgraph.core.models import ExternalAlert, Resource
from opsgraph.sources.cloudwatch import epoch_of
from opsgraph.sources.cloudwatch_alarms import (
    AlarmState,
    SeverityRules,
    alarm_alert,
    recent_value,
)

router = APIRouter(prefix="/ingest", tags=["ingest"])

SUPPORTED_DETAIL_TYPES = ("CloudWatch Alarm State Change",)
MAX_EVENTS = 100


class _Event(BaseModel):
    # EventBridge adds fields over time: unknown ones are ignored, known ones checked.
    model_config = ConfigDict(extra="ignore")


class AlarmMetric(_Event):
    namespace: str = Field(min_length=1, max_length=255)
    name: str = Field(min_length=1, max_length=255)
    dimensions: dict[str, str] = Field(default_factory=dict)


class AlarmMetricStat(_Event):
    metric: AlarmMetric
    period: int | None = None
    stat: str | None = None


class AlarmMetricEntry(_Event):
    id: str | None = None
    metric_stat: AlarmMetricStat | None = Field(default=None, alias="metricStat")
    expression: str | None = None


class AlarmConfiguration(_Event):
    description: str | None = None
    metrics: list[AlarmMetricEntry] = Field(default_factory=list)


class AlarmStateValue(_Event):
    value: Literal["ALARM", "OK", "INSUFFICIENT_DATA"]
    reason: str = ""
    reason_data: str | None = Field(default=None, alias="reasonData")
    timestamp: datetime


class AlarmDetail(_Event):
    alarm_name: str = Field(alias="alarmName", min_length=1, max_length=255)
    state: AlarmStateValue
    previous_state: AlarmStateValue | None = Field(default=None, alias="previousState")
    configuration: AlarmConfiguration = Field(default_factory=AlarmConfiguration)


class AlarmStateChange(_Event):
    """An EventBridge event of detail-type "CloudWatch Alarm State Change"."""

    version: str = "0"
    id: str | None = None
    detail_type: Literal["CloudWatch Alarm State Change"] = Field(alias="detail-type")
    source: Literal["aws.cloudwatch"]
    account: str | None = None
    time: datetime | None = None
    region: str = Field(min_length=1)
    resources: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description="The alarm's ARN first."
    )
    detail: AlarmDetail


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


# One event (as an API destination sends it) or an array of them; both read as a list, so a
# single event's errors are named body[0]....
Events = Annotated[
    list[dict[str, Any]],
    BeforeValidator(_as_list, json_schema_input_type=AlarmStateChange | list[AlarmStateChange]),
    Len(1, MAX_EVENTS),
]


def _parse(events: list[dict[str, Any]]) -> list[AlarmStateChange]:
    """Every event checked before any is used: a bad one refuses the request whole."""
    parsed: list[AlarmStateChange] = []
    errors: list[dict[str, Any]] = []
    for i, event in enumerate(events):
        kind = event.get("detail-type")
        if kind not in SUPPORTED_DETAIL_TYPES:
            supported = ", ".join(repr(t) for t in SUPPORTED_DETAIL_TYPES)
            errors.append(
                {
                    "loc": ("body", i, "detail-type"),
                    "msg": f"{kind!r} is not supported; supported: {supported}",
                    "type": "unsupported",
                }
            )
            continue
        try:
            parsed.append(AlarmStateChange.model_validate(event))
        except ValidationError as exc:
            errors += [{**e, "loc": ("body", i, *e["loc"])} for e in exc.errors()]
    if errors:
        raise RequestValidationError(errors)
    return parsed


def alarm_state(event: AlarmStateChange) -> AlarmState:
    """The AlarmState an event reports (the first metric it reads names the resource)."""
    detail = event.detail
    stat = next((m.metric_stat for m in detail.configuration.metrics if m.metric_stat), None)
    previous = detail.previous_state
    return AlarmState(
        arn=event.resources[0],
        name=detail.alarm_name,
        state=detail.state.value,
        updated_at=epoch_of(detail.state.timestamp),
        region=event.region,
        namespace=stat.metric.namespace if stat else "",
        metric=stat.metric.name if stat else "",
        stat=stat.stat if stat else None,
        dimensions=stat.metric.dimensions if stat else {},
        reason=detail.state.reason,
        description=detail.configuration.description or "",
        value=recent_value(detail.state.reason_data),
        started_at=(
            epoch_of(previous.timestamp)
            if previous is not None and previous.value == "ALARM"
            else None
        ),
    )


@router.post("/eventbridge", summary="Receive CloudWatch alarm state changes from EventBridge")
def receive_eventbridge(events: Annotated[Events, Body()], runtime: RuntimeDep) -> dict[str, Any]:
    """An alarm entering ALARM opens (or updates) an anomaly on the resource of its metric;
    leaving ALARM resolves it. Changes between OK and INSUFFICIENT_DATA are ignored."""
    rules = SeverityRules.from_settings(runtime.settings.sources.cloudwatch)
    alerts: list[ExternalAlert] = []
    resources: dict[str, Resource] = {}
    ignored = []
    for i, event in enumerate(_parse(events)):
        previous = event.detail.previous_state
        if event.detail.state.value != "ALARM" and (previous is None or previous.value != "ALARM"):
            ignored.append(
                {
                    "index": i,
                    "alarm": event.detail.alarm_name,
                    "reason": f"{previous.value if previous else 'no state'} -> "
                    f"{event.detail.state.value} neither fires nor resolves",
                }
            )
            continue
        alert, resource = alarm_alert(alarm_state(event), rules)
        alerts.append(alert)
        resources.setdefault(resource.id, resource)
    new = [r for r in resources.values() if r.id not in runtime.estate.resources]
    if new:  # with their kind and region, before the alerts name them
        runtime.estate.upsert(new, [])
        runtime.hub.publish(
            "graph:update", {"nodes": [], "topology": True, "source": "eventbridge"}
        )
    anomalies = runtime.intake.receive_alerts(alerts) if alerts else []
    return {
        "received": len(events),
        "alerts": [
            a.model_dump(mode="json", include={"fingerprint", "resource_id", "metric", "firing"})
            for a in alerts
        ],
        "ignored": ignored,
        "anomalies": [a.model_dump(mode="json") for a in anomalies],
    }
