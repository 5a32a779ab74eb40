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

from opsgraph.act.settings import AutomationSettings
from opsgraph.core.errors import ConfigError
from opsgraph.core.models import CalendarEvent, Severity
from opsgraph.notify.settings import NotifySettings
from opsgraph.sources.settings import SourcesSettings

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
    automation: AutomationSettings = Field(default_factory=AutomationSettings)

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
