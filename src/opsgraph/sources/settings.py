"""Settings of the pull and push sources: Prometheus (remote write, query_range), CloudWatch
(metrics, alarms) and file replay; the `sources` section of the configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator

from opsgraph.core.metrics import METRIC_NAME_RE, RESOURCE_ID_RE
from opsgraph.core.models import Severity
from opsgraph.core.settings import Section


class PromQuery(Section):
    """One PromQL expression the Prometheus poller evaluates with query_range."""

    expr: str = Field(min_length=1, description="PromQL expression.")
    metric: str | None = Field(
        default=None,
        description="Metric name of its series; default: each series' __name__ (needed for "
        "expressions whose result has none, such as rate(...)).",
    )

    @field_validator("metric")
    @classmethod
    def _metric_name(cls, value: str | None) -> str | None:
        if value is not None and not METRIC_NAME_RE.match(value):
            raise ValueError("must match [a-zA-Z_][a-zA-Z0-9_:.]* (at most 128 characters)")
        return value


class PrometheusSourceSettings(Section):
    """Prometheus: the remote-write receiver, the query_range poller and how labels map to
    resources and metrics (see docs/prometheus.md)."""

    remote_write: bool = Field(
        default=True, description="Accept Prometheus remote write on POST /api/v1/write."
    )
    url: str | None = Field(
        default=None,
        description="Prometheus base URL (http://prometheus:9090) polled with the queries; "
        "empty = no poller.",
    )
    queries: list[PromQuery] = Field(
        default_factory=list,
        description="PromQL expressions to poll: a string, or {expr, metric}.",
    )
    step_s: float = Field(default=15.0, gt=0, description="query_range resolution (seconds).")
    interval_s: float = Field(default=30.0, gt=0, description="Real seconds between polls.")
    lookback_s: float = Field(
        default=300.0, gt=0, description="History read by the first poll, and at most by any."
    )
    timeout_s: float = Field(default=10.0, gt=0, description="HTTP timeout of one query.")
    bearer_token: SecretStr | None = Field(
        default=None, description="Sent as 'Authorization: Bearer ...' to Prometheus."
    )
    resource_labels: list[str] = Field(
        default_factory=lambda: ["instance", "job"],
        description="Labels that name the resource, first present wins.",
    )
    fallback_resource: str | None = Field(
        default=None,
        description="Resource of series with none of resource_labels; empty = drop them.",
    )
    tag_labels: list[str] = Field(
        default_factory=lambda: ["job"],
        description="Labels kept as tags of a new resource rather than in the metric name.",
    )
    region_label: str | None = Field(
        default="region", description="Label whose value becomes a new resource's region."
    )
    ignore_labels: list[str] = Field(
        default_factory=list,
        description="Labels dropped; every other label is appended to the metric name.",
    )

    @field_validator("queries", mode="before")
    @classmethod
    def _plain_queries(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"expr": q} if isinstance(q, str) else q for q in value]
        return value

    @field_validator("fallback_resource")
    @classmethod
    def _resource_id(cls, value: str | None) -> str | None:
        if value is not None and not RESOURCE_ID_RE.match(value):
            raise ValueError("must be a resource id: letters, digits and _ . : @ -")
        return value

    @model_validator(mode="after")
    def _poller(self) -> PrometheusSourceSettings:
        if bool(self.url) != bool(self.queries):
            raise ValueError("the poller needs both url and queries (or neither)")
        # Prometheus refuses a query_range of more than 11,000 points per series.
        if self.lookback_s / self.step_s > 11_000:
            raise ValueError("lookback_s / step_s must be at most 11000 (Prometheus' limit)")
        return self


class CloudWatchQuery(Section):
    """One CloudWatch metric polled with GetMetricData (see docs/ingest.md, CloudWatch)."""

    namespace: str = Field(min_length=1, max_length=255, description="e.g. AWS/EC2.")
    metric: str = Field(min_length=1, max_length=255, description="e.g. CPUUtilization.")
    dimensions: dict[str, str] = Field(
        default_factory=dict, description="Name -> value, e.g. {InstanceId: i-0abc...}."
    )
    stat: str | None = Field(
        default=None,
        description="Statistic (Average, Sum, Maximum, p99...); default: the one opsgraph's "
        "signal mapping expects (Sum for counts), else `stat` of the section.",
    )
    period_s: int | None = Field(default=None, description="Default: period_s of the section.")
    region: str | None = Field(default=None, description="Poll only this region.")
    name: str | None = Field(
        default=None, description="opsgraph metric name; default: the mapped signal name."
    )

    @field_validator("name")
    @classmethod
    def _metric_name(cls, value: str | None) -> str | None:
        if value is not None and not METRIC_NAME_RE.match(value):
            raise ValueError("must match [a-zA-Z_][a-zA-Z0-9_:.]* (at most 128 characters)")
        return value

    @field_validator("period_s")
    @classmethod
    def _period(cls, value: int | None) -> int | None:
        return None if value is None else _cloudwatch_period(value)


def _cloudwatch_period(value: int) -> int:
    # CloudWatch accepts 1, 5, 10 and 30 s (high resolution) or a multiple of 60.
    if value not in (1, 5, 10, 30) and (value <= 0 or value % 60):
        raise ValueError("must be 1, 5, 10, 30 or a multiple of 60 seconds")
    return value


class CloudWatchSettings(Section):
    """CloudWatch: metrics polled with GetMetricData and alarms polled with DescribeAlarms
    (off until queries, namespaces or alarms are set; see docs/ingest.md)."""

    regions: list[str] = Field(default_factory=list, description="Regions polled.")
    endpoint_url: str | None = Field(
        default=None, description="Another AWS endpoint (a local moto server, a proxy)."
    )
    profile: str | None = Field(default=None, description="Named AWS profile to use.")
    interval_s: float = Field(default=60.0, ge=1, description="Real seconds between polls.")
    period_s: int = Field(default=60, description="Seconds per data point (CloudWatch period).")
    stat: str = Field(default="Average", min_length=1, description="Default statistic.")
    lookback_s: float = Field(
        default=900.0, ge=0, description="History read by the first poll of a metric."
    )
    delay_s: float = Field(
        default=60.0,
        ge=0,
        description="Periods ending less than this long ago are left to the next poll "
        "(CloudWatch receives points late).",
    )
    queries: list[CloudWatchQuery] = Field(
        default_factory=list, description="Metrics to poll: {namespace, metric, dimensions, stat}."
    )
    namespaces: list[str] = Field(
        default_factory=list,
        description="Namespaces whose per-resource metrics are found with ListMetrics and polled.",
    )
    rediscover_s: float = Field(
        default=900.0, ge=60, description="Real seconds between ListMetrics refreshes."
    )
    alarms: bool = Field(default=False, description="Poll DescribeAlarms; changes become alerts.")
    alarm_prefix: str | None = Field(
        default=None, description="Only alarms whose name starts with this."
    )
    default_severity: Severity = Field(
        default=Severity.HIGH, description="Severity of an alarm no rule below matches."
    )
    severity_tag: str | None = Field(
        default="severity",
        description="Alarm tag whose value (low, medium, high, critical) is the severity.",
    )
    severity_by_tag: dict[str, Severity] = Field(
        default_factory=dict,
        description="'key=value' of an alarm tag -> severity, first match wins.",
    )
    severity_by_name: dict[str, Severity] = Field(
        default_factory=dict,
        description="Glob over alarm names (e.g. '*-p1-*') -> severity, first match wins.",
    )

    @field_validator("period_s")
    @classmethod
    def _period(cls, value: int) -> int:
        return _cloudwatch_period(value)

    @field_validator("severity_by_tag")
    @classmethod
    def _tag_rules(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        for key in value:
            if "=" not in key or not key.split("=", 1)[0]:
                raise ValueError(f"{key!r} must be written key=value")
        return value

    @model_validator(mode="after")
    def _regions(self) -> CloudWatchSettings:
        if (self.queries or self.namespaces or self.alarms) and not self.regions:
            raise ValueError("regions: give at least one region to poll")
        return self


class ReplaySettings(Section):
    """A file of samples replayed into the pipeline (see docs/ingest.md, File replay)."""

    path: Path = Field(description="CSV, Parquet or JSON-lines file.")
    speed: float = Field(
        default=0.0,
        ge=0,
        allow_inf_nan=False,
        description="Data seconds per real second; 0 or 'max' = as fast as possible.",
    )
    resource_id: str | None = Field(
        default=None, description="Resource of a wide file's columns (one column per signal)."
    )
    batch_size: int = Field(default=5000, ge=1, le=100_000, description="Samples per batch.")
    interval_s: float = Field(
        default=1.0, gt=0, description="Real seconds between batches at a finite speed."
    )

    @field_validator("speed", mode="before")
    @classmethod
    def _max(cls, value: Any) -> Any:
        return 0.0 if isinstance(value, str) and value.strip().lower() == "max" else value

    @field_validator("resource_id")
    @classmethod
    def _resource_id(cls, value: str | None) -> str | None:
        if value is not None and not RESOURCE_ID_RE.match(value):
            raise ValueError("must be a resource id: letters, digits and _ . : @ -")
        return value


class SourcesSettings(Section):
    """Pull sources the runtime polls (each off unless configured; see docs/ingest.md)."""

    prometheus: PrometheusSourceSettings = Field(
        default_factory=PrometheusSourceSettings,
        description="Prometheus remote write, query_range polling and label mapping.",
    )
    cloudwatch: CloudWatchSettings = Field(
        default_factory=CloudWatchSettings,
        description="CloudWatch GetMetricData and DescribeAlarms polling.",
    )
    replay: list[ReplaySettings] = Field(
        default_factory=list, description="Files of samples replayed into the pipeline."
    )


class TopologySettings(Section):
    file: Path | None = Field(
        default=None,
        description="YAML file of resources and dependencies, loaded at start (see README).",
    )
    aws_regions: list[str] = Field(
        default_factory=list,
        description="AWS regions discovered at start through boto3's credential chain.",
    )
    aws_endpoint_url: str | None = Field(
        default=None, description="Another AWS endpoint (a local moto server, a proxy)."
    )
    aws_profile: str | None = Field(default=None, description="Named AWS profile to use.")
