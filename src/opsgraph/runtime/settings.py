"""Typed configuration: one YAML file plus OPSGRAPH_* environment variables, assembled from
the section each package keeps beside it (`<package>/settings.py`).

Every setting has a default that works with no file; environment variables override the file
(nested keys with a double underscore, e.g. OPSGRAPH_API__PORT=9000).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    Field,
    ValidationError,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from opsgraph.act.settings import AutomationSettings
from opsgraph.alerts.settings import AlertSettings
from opsgraph.auth.settings import AuthSettings
from opsgraph.core.errors import ConfigError
from opsgraph.core.settings import Section
from opsgraph.detect.settings import DetectSettings
from opsgraph.logs.settings import LogSettings
from opsgraph.models.settings import GnnSettings, MultivariateSettings
from opsgraph.notify.settings import EventsSettings, NotifySettings
from opsgraph.sim.settings import SimSettings
from opsgraph.sources.settings import SourcesSettings, TopologySettings
from opsgraph.store.settings import StoreSettings

#: Looked up when neither --config nor OPSGRAPH_CONFIG names a file.
DEFAULT_CONFIG_NAMES = ("opsgraph.yaml", "opsgraph.yml")


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "opsgraph"


class DemoSettings(Section):
    fault_every_s: float = Field(
        default=300.0, ge=0, description="Real seconds between injected faults; 0 = never."
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
            "certificate_expiry",
        ],
        description="Fault kinds the demo cycles through.",
    )


class ApiSettings(Section):
    host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024, description="Larger request bodies get 413."
    )
    max_batch: int = Field(default=100_000, ge=1, description="Samples per ingest request.")
    max_header_bytes: int = Field(
        default=32 * 1024,
        ge=4096,
        le=1024 * 1024,
        description="Requests whose headers are larger in all get 431.",
    )
    public_urls: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Where browsers reach the console when that is not the address they connect "
        "to (behind a proxy), such as https://ops.example.com: a WebSocket from a page of any "
        "other origin is refused.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Addresses (or CIDR ranges) of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; empty: the headers are ignored and the client is the "
        "connecting address (login throttling counts per address).",
    )
    max_future_skew_s: float = Field(
        default=300.0,
        ge=0,
        le=86_400,
        description="Pushed or remote-written samples stamped further ahead of now are refused "
        "(422 naming the sample).",
    )
    max_sample_age_s: float = Field(
        default=31 * 86_400.0,
        gt=0,
        le=20 * 365 * 86_400.0,
        description="Pushed or remote-written samples older than this are refused (422 naming "
        "the sample); raise it to backfill older history.",
    )


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


def demo_store_url(settings: Settings) -> str:
    """The demo's own SQLite file, started afresh on each run (serve keeps its data)."""
    return f"sqlite:///{settings.data_dir / 'demo.db'}"


def settings_as_yaml(settings: Settings) -> str:
    """The effective configuration as YAML, as `opsgraph config show` prints it."""
    data = settings.model_dump(mode="json")
    data["store"]["effective_url"] = settings.store_url
    return yaml.safe_dump(data, sort_keys=False)
