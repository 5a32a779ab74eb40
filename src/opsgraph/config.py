"""Typed configuration: one YAML file plus OPSGRAPH_* environment variables.

Every setting has a default that works with no file; environment variables override the file
(nested keys with a double underscore, e.g. OPSGRAPH_API__PORT=9000).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from opsgraph.core.errors import ConfigError
from opsgraph.core.metrics import METRIC_NAME_RE, RESOURCE_ID_RE
from opsgraph.core.models import CalendarEvent, Severity
from opsgraph.notify.settings import NotifySettings

#: Looked up when neither --config nor OPSGRAPH_CONFIG names a file.
DEFAULT_CONFIG_NAMES = ("opsgraph.yaml", "opsgraph.yml")


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "opsgraph"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoreSettings(_Section):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; empty means a SQLite file opsgraph.db in data_dir. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db",
    )
    auto_migrate: bool = Field(default=True, description="Apply Alembic migrations at start.")
    persist_samples: bool = Field(
        default=True, description="Write every ingested sample to the store (else only windows)."
    )


class SimSettings(_Section):
    enabled: bool = Field(default=True, description="Run the simulated cloud as a source.")
    resources: int = Field(default=50, ge=10, le=10_000, description="Size of the estate.")
    seed: int = Field(default=7, description="Same seed, same estate and same metrics.")
    step_s: float = Field(default=60.0, gt=0, description="Simulated seconds between samples.")
    speed: float = Field(
        default=60.0, gt=0, description="Simulated seconds per real second (60 = a step a second)."
    )
    preroll_steps: int = Field(
        default=120, ge=0, le=10_000, description="History simulated at start (warms detectors)."
    )


class TopologySettings(_Section):
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


class DemoSettings(_Section):
    fault_every_s: float = Field(
        default=120.0, ge=0, description="Real seconds between injected faults; 0 = never."
    )
    first_fault_after_s: float = Field(
        default=20.0, ge=0, description="Real seconds before the first injected fault."
    )
    fault_kinds: list[str] = Field(
        default_factory=lambda: [
            "dependency_outage",
            "cpu_hog",
            "latency_injection",
            "error_burst",
            "traffic_spike",
            "memory_leak",
            "disk_full",
            "misconfiguration",
        ],
        description="Fault kinds the demo cycles through.",
    )


class KnobSettings(_Section):
    """What counts as anomalous for a metric (see docs: false-positive knobs)."""

    direction: Literal["up", "down", "both"] = Field(
        default="both", description="Only rises (up), only falls (down) or both are anomalous."
    )
    min_deviation: float = Field(
        default=0.0, ge=0, description="Smaller |value - expected| is normal."
    )
    min_rel_deviation: float = Field(
        default=0.0, ge=0, description="Smaller deviation, as a fraction of expected, is normal."
    )
    valid_min: float | None = Field(default=None, description="Values below are always anomalous.")
    valid_max: float | None = Field(default=None, description="Values above are always anomalous.")
    warmup_points: int = Field(default=0, ge=0, description="First points of a series never alert.")

    @model_validator(mode="after")
    def _range(self) -> KnobSettings:
        low, high = self.valid_min, self.valid_max
        if low is not None and high is not None and low > high:
            raise ValueError("valid_min must not be above valid_max")
        return self


def _default_per_metric() -> dict[str, KnobSettings]:
    # Percentages cannot leave [0, 100]; an error rate that falls is good news.
    return {
        "cpu": KnobSettings(valid_min=0.0, valid_max=100.0),
        "memory": KnobSettings(valid_min=0.0, valid_max=100.0),
        "disk": KnobSettings(valid_min=0.0, valid_max=100.0),
        "error_rate": KnobSettings(direction="up", valid_min=0.0, valid_max=1.0),
        "latency_ms": KnobSettings(direction="up", valid_min=0.0),
        # Log metrics (docs/logs.md): fewer errors or new templates than usual is good news.
        "log_errors": KnobSettings(direction="up", valid_min=0.0),
        "log_new_templates": KnobSettings(direction="up", valid_min=0.0),
        "log_lines": KnobSettings(valid_min=0.0),
    }


class DetectSettings(_Section):
    detector: str = Field(
        default="robust_z", description="Streaming detector, by entry-point name."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="The detector's own settings (e.g. period: week)."
    )
    window: int = Field(default=60, ge=5, le=10_000, description="Points per rolling window.")
    min_points: int = Field(default=20, ge=3, description="Warm-up: points before scoring.")
    alert_threshold: float = Field(
        default=0.35, ge=0.0, le=1.0, description="Score at which a sample becomes an anomaly."
    )
    z_onset: float = Field(default=3.0, ge=0, description="Robust z below which the score is 0.")
    z_scale: float = Field(
        default=4.0, gt=0, description="Robust z above the onset that brings the score to 0.63."
    )
    open_after_points: int = Field(
        default=2,
        ge=1,
        le=100,
        description="Points in a row above the threshold that open an anomaly (1 = at once).",
    )
    knobs: KnobSettings = Field(
        default_factory=KnobSettings, description="False-positive knobs for every metric."
    )
    per_metric: dict[str, KnobSettings] = Field(
        default_factory=_default_per_metric,
        description="Knobs by metric name, replacing the defaults for that metric.",
    )
    close_after_steps: int = Field(
        default=3, ge=1, description="Quiet points in a row that close an anomaly episode."
    )
    calendar: list[CalendarEvent] = Field(
        default_factory=list,
        description="Business events (sales, promotions, holidays) with their traffic "
        "multiplier: a change they explain is not an anomaly.",
    )
    calendar_metrics: list[str] = Field(
        default_factory=lambda: ["request_count", "net_in", "net_out", "cpu"],
        description="Metrics that grow in proportion to traffic, and so follow the calendar's "
        "multipliers (memory and latency do not: see docs/decisions.md).",
    )


class GnnSettings(_Section):
    model: Literal["graphsage", "graph_deviation"] = Field(
        default="graphsage",
        description="Registered graph model served by /predict and used in explanations.",
    )
    bootstrap: bool = Field(
        default=True,
        description="With no registered model, train a small one on the simulator at start.",
    )
    bootstrap_incidents: int = Field(
        default=12, ge=4, le=500, description="Simulated incidents per topology when bootstrapping."
    )
    bootstrap_epochs: int = Field(default=100, ge=1, le=5000, description="Bootstrap epochs.")
    shap_samples: int = Field(
        default=64, ge=8, le=2048, description="SHAP KernelExplainer samples per explanation."
    )
    explain_epochs: int = Field(
        default=200, ge=10, le=2000, description="GNNExplainer optimisation epochs."
    )


class MultivariateSettings(_Section):
    """The multivariate resource model behind /predict and /batch_predict (docs/models.md)."""

    bootstrap: bool = Field(
        default=True,
        description="With no registered model, the first /predict fits one on the store's "
        "history (else 409 until `opsgraph train multivariate` registers one).",
    )
    detector: Literal["ensemble", "iforest", "ocsvm", "lof", "ecod", "autoencoder"] = Field(
        default="ensemble", description="Model the bootstrap fits (ensemble: IF + OCSVM + LOF)."
    )
    max_rows: int = Field(
        default=50_000, ge=100, le=5_000_000, description="History rows read for training."
    )


class PromQuery(_Section):
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


class PrometheusSourceSettings(_Section):
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


class CloudWatchQuery(_Section):
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


class CloudWatchSettings(_Section):
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


class ReplaySettings(_Section):
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


class AuthSettings(_Section):
    """Access control (see docs/auth.md)."""

    enabled: bool = Field(
        default=True, description="Require a credential on every route but health and login."
    )
    secret_key: str | None = Field(
        default=None,
        description="JWT signing key; default: generated once into data_dir/auth-secret. "
        "Replicas must share one.",
    )
    access_ttl_s: float = Field(default=900.0, ge=30, description="Access token lifetime.")
    refresh_ttl_s: float = Field(default=7 * 86_400.0, ge=60, description="Refresh token lifetime.")
    allow_signup: bool = Field(
        default=True, description="Anyone may register (as viewer); the first user is admin."
    )
    admin_password: str | None = Field(
        default=None,
        description="Password of the 'admin' user created when there is no user at all; "
        "default: a random one, printed once at start.",
    )
    cookie_secure: bool = Field(
        default=False, description="Send cookies over HTTPS only (set behind TLS)."
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins per name or address within the window."
    )
    login_window_s: float = Field(default=300.0, gt=0, description="Login rate-limit window.")
    public_metrics: bool = Field(
        default=True, description="Serve /metrics without a credential (for scrapers)."
    )


class AlertSettings(_Section):
    """Deduplication, grouping into incidents and auto-resolution (see docs/alerts.md)."""

    fingerprint_fields: list[str] = Field(
        default_factory=lambda: ["resource", "metric", "detector"],
        min_length=1,
        description="Labels whose values identify one alert; a second open anomaly with the "
        "same values is a duplicate of the first.",
    )
    group_window_s: float = Field(
        default=900.0, gt=0, description="Data seconds within which related anomalies group."
    )
    group_max_hops: int = Field(
        default=2, ge=0, le=10, description="Graph hops within which anomalies are related."
    )
    min_anomalies: int = Field(
        default=2, ge=1, le=100, description="Related anomalies needed to open an incident."
    )
    open_alone_at: Severity | None = Field(
        default=Severity.CRITICAL,
        description="An anomaly at this severity or above opens an incident on its own.",
    )
    auto_resolve: bool = Field(
        default=True, description="Resolve an incident when all its anomalies have cleared."
    )


class SourcesSettings(_Section):
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


class EventsSettings(_Section):
    """Fan-out of live events between replicas (see docs/deploy.md)."""

    redis_url: str | None = Field(
        default=None,
        description="Redis URL (redis://host:6379/0); set, every replica relays the events "
        "published on the others to its own WebSocket clients.",
    )
    channel: str = Field(
        default="opsgraph:events", min_length=1, description="Redis pub/sub channel of the events."
    )
    queue_size: int = Field(
        default=10_000,
        ge=1,
        description="Events waiting for Redis at most; beyond, the oldest are dropped (counted).",
    )

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value


class LogSettings(_Section):
    """Log ingestion: drain3 template mining, line scores and log metrics (see docs/logs.md)."""

    bucket_s: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description="Seconds per bucket of the log metrics log_lines, log_errors and "
        "log_new_templates of each resource.",
    )
    grace_s: float = Field(
        default=30.0,
        ge=0,
        description="A bucket closes once a line this much newer than its end arrives; "
        "later lines count in the oldest open bucket.",
    )
    max_gap_buckets: int = Field(
        default=60,
        ge=1,
        le=100_000,
        description="Empty buckets emitted at most for a silent resource when buckets close.",
    )
    anomaly_threshold: float = Field(
        default=0.35, ge=0.0, le=1.0, description="Score from which a line is anomalous."
    )
    surprise_onset: float = Field(
        default=2.0,
        ge=0,
        description="Surprise (-log10 of the template's share of the resource's lines) below "
        "which a line scores 0: 2 = templates more common than 1 line in 100.",
    )
    surprise_scale: float = Field(
        default=1.5, gt=0, description="Surprise above the onset that brings the score to 0.63."
    )
    error_boost: float = Field(
        default=1.0,
        ge=0,
        description="Surprise added to error and critical lines (1 = as if ten times rarer).",
    )
    sim_threshold: float = Field(
        default=0.7, gt=0, le=1, description="drain3 similarity a line needs to join a template."
    )
    depth: int = Field(default=5, ge=3, le=20, description="drain3 parse-tree depth.")
    max_children: int = Field(
        default=100, ge=2, le=10_000, description="drain3 children per parse-tree node."
    )
    max_templates: int = Field(
        default=5000,
        ge=10,
        le=1_000_000,
        description="Templates kept; beyond, the least recently seen are forgotten.",
    )
    bootstrap_file: Path | None = Field(
        default=None,
        description="A log file (one line per line) the served log model learns at start.",
    )


class ApiSettings(_Section):
    host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024, description="Larger request bodies get 413."
    )
    max_batch: int = Field(default=100_000, ge=1, description="Samples per ingest request.")


class Settings(BaseSettings):
    """The effective configuration of one opsgraph process."""

    model_config = SettingsConfigDict(
        env_prefix="OPSGRAPH_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Field(
        default_factory=_default_data_dir, description="Where the SQLite file and models live."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    store: StoreSettings = Field(default_factory=StoreSettings)
    sim: SimSettings = Field(default_factory=SimSettings)
    topology: TopologySettings = Field(default_factory=TopologySettings)
    demo: DemoSettings = Field(default_factory=DemoSettings)
    detect: DetectSettings = Field(default_factory=DetectSettings)
    gnn: GnnSettings = Field(default_factory=GnnSettings)
    multivariate: MultivariateSettings = Field(default_factory=MultivariateSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    sources: SourcesSettings = Field(default_factory=SourcesSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    events: EventsSettings = Field(default_factory=EventsSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    logs: LogSettings = Field(default_factory=LogSettings)

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def store_url(self) -> str:
        return self.store.url or f"sqlite:///{self.data_dir / 'opsgraph.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _CONFIG_FILE.get("path")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
        return tuple(sources)


# The YAML path chosen by load_settings; pydantic-settings reads sources at construction time.
_CONFIG_FILE: dict[str, Path | None] = {"path": None}


def find_config_file(explicit: Path | None = None) -> Path | None:
    """The file to read: --config, else $OPSGRAPH_CONFIG, else ./opsgraph.yaml when present."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"config file {str(explicit)!r} does not exist")
        return explicit
    env = os.environ.get("OPSGRAPH_CONFIG")
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(f"OPSGRAPH_CONFIG names {env!r}, which does not exist")
        return path
    for name in DEFAULT_CONFIG_NAMES:
        if Path(name).is_file():
            return Path(name)
    return None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the effective settings; a bad file or value raises ConfigError naming the key."""
    path = find_config_file(config_file)
    if path is not None:
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        if data is not None and not isinstance(data, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of settings")
    _CONFIG_FILE["path"] = path
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        where = f" (file {path})" if path else ""
        raise ConfigError(f"invalid configuration{where}: {problems}") from exc
    finally:
        _CONFIG_FILE["path"] = None


def settings_as_yaml(settings: Settings) -> str:
    """The effective configuration as YAML, as `opsgraph config show` prints it."""
    data = settings.model_dump(mode="json")
    data["store"]["effective_url"] = settings.store_url
    return yaml.safe_dump(data, sort_keys=False)
