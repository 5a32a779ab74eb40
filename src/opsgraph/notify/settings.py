"""The `notify` section of the configuration (receivers, routes, rate limits, repeat intervals);
and the `events` section (fan-out between replicas). Imports only `core`, like every section.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AnyHttpUrl,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    field_validator,
    model_validator,
)

from opsgraph.core.models import Severity
from opsgraph.core.regex import SafePattern, compile_safe
from opsgraph.core.settings import Section

#: Hub message types a route may match: the ones that make sense to tell a person about.
NOTIFIABLE_TYPES = frozenset(
    {
        "anomaly:new",
        "anomaly:update",
        "anomaly:resolved",
        "incident:update",
        "automation:log",
        "fault:new",
        "action:applied",
    }
)

DEFAULT_ROUTE_TYPES = ("anomaly:new", "anomaly:update", "anomaly:resolved", "incident:update")

#: Receiver types built into opsgraph; any other type names an `opsgraph.notifiers` plug-in.
BUILTIN_TYPES = ("alertmanager", "slack", "email", "webhook")

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MATCHER_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


def parse_duration(value: Any) -> float:
    """Seconds from a number or a Prometheus-style duration such as 90s, 15m, 1h30m, 2d."""
    if isinstance(value, bool):
        raise ValueError("must be a duration such as 90s, 15m or 1h30m")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        parts = _DURATION_PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"{value!r} is not a duration such as 90s, 15m or 1h30m")
        seconds = sum(float(n) * _UNIT_S[u] for n, u in parts)
    else:
        raise ValueError("must be a duration such as 90s, 15m or 1h30m")
    if seconds < 0:
        raise ValueError("must not be negative")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


def _default_repeat() -> dict[Severity, float]:
    return {
        Severity.CRITICAL: 15 * 60.0,
        Severity.HIGH: 3600.0,
        Severity.MEDIUM: 4 * 3600.0,
        Severity.LOW: 24 * 3600.0,
    }


class _Receiver(Section):
    name: str = Field(description="Unique name routes refer to.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError("must be 1-64 letters, digits, _ . - (starting with a letter/digit)")
        return value


class _HttpReceiver(_Receiver):
    url: AnyHttpUrl = Field(description="Where to POST (http or https).")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers.")
    bearer_token: SecretStr | None = Field(
        default=None, description="Sent as 'Authorization: Bearer ...'."
    )
    timeout_s: float = Field(default=10.0, gt=0, le=300, description="Timeout of one POST.")
    verify_tls: bool = Field(default=True, description="Check the server's TLS certificate.")
    ca_file: Path | None = Field(default=None, description="CA bundle to check it against.")


class AlertmanagerReceiver(_HttpReceiver):
    """POSTs Alertmanager webhook (version 4) JSON, one alert per notification."""

    type: Literal["alertmanager"] = "alertmanager"


class SlackReceiver(_HttpReceiver):
    """POSTs to a Slack-compatible incoming webhook ({text, blocks})."""

    type: Literal["slack"] = "slack"
    channel: str | None = Field(default=None, description="Override the webhook's channel.")
    username: str | None = Field(default=None, description="Override the webhook's user name.")


class WebhookReceiver(_HttpReceiver):
    """POSTs opsgraph's own notification JSON."""

    type: Literal["webhook"] = "webhook"


class EmailReceiver(_Receiver):
    """Sends a plain-text + HTML e-mail over SMTP."""

    type: Literal["email"] = "email"
    host: str = Field(min_length=1, description="SMTP server.")
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Default: 465 with ssl, 587 with starttls, 25."
    )
    security: Literal["none", "starttls", "ssl"] = Field(
        default="starttls", description="starttls upgrades a plain connection; ssl is TLS at once."
    )
    username: str | None = Field(default=None, description="Log in with this user (AUTH).")
    password: SecretStr | None = Field(default=None, description="Password of username.")
    sender: str = Field(description="From address.")
    to: list[str] = Field(min_length=1, description="Recipient addresses.")
    subject_prefix: str = Field(default="[opsgraph]", description="Start of every subject.")
    timeout_s: float = Field(default=30.0, gt=0, le=300, description="SMTP socket timeout.")
    verify_tls: bool = Field(default=True, description="Check the server's TLS certificate.")
    ca_file: Path | None = Field(default=None, description="CA bundle to check it against.")

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _address(value)

    @field_validator("to")
    @classmethod
    def _to(cls, value: list[str]) -> list[str]:
        return [_address(v) for v in value]

    @model_validator(mode="after")
    def _auth(self) -> EmailReceiver:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        return self

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return {"ssl": 465, "starttls": 587, "none": 25}[self.security]


def _address(value: str) -> str:
    _, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in address):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


class PluginReceiver(_Receiver):
    """A receiver of a type registered by a plug-in (`opsgraph.notifiers` entry point); its
    parameters are checked by the plug-in when the dispatcher starts."""

    type: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict, description="The plug-in's settings.")

    @field_validator("type")
    @classmethod
    def _not_builtin(cls, value: str) -> str:
        if value in BUILTIN_TYPES:
            raise ValueError(f"{value!r} is a built-in receiver type")
        return value


def _receiver_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in BUILTIN_TYPES else "plugin"


ReceiverSettings = Annotated[
    Annotated[AlertmanagerReceiver, Tag("alertmanager")]
    | Annotated[SlackReceiver, Tag("slack")]
    | Annotated[EmailReceiver, Tag("email")]
    | Annotated[WebhookReceiver, Tag("webhook")]
    | Annotated[PluginReceiver, Tag("plugin")],
    Discriminator(_receiver_tag),
]


class Matcher(Section):
    """One Alertmanager-style label matcher: name=value, name!=value, name=~re, name!~re.
    Regular expressions are anchored at both ends, as in Alertmanager."""

    label: str
    op: Literal["=", "!=", "=~", "!~"]
    value: str

    def compiled(self) -> SafePattern | None:
        """RE2, so no matcher can stall the server (`core/regex.py`)."""
        return compile_safe(self.value) if self.op in ("=~", "!~") else None


def parse_matcher(text: str) -> Matcher:
    found = _MATCHER_RE.match(text)
    if found is None:
        raise ValueError(f'{text!r} is not a matcher such as severity="critical" or job=~"api.*"')
    label, op, value = found.groups()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    matcher = Matcher(label=label, op=op, value=value)
    if op in ("=~", "!~"):
        try:
            compile_safe(value)
        except ValueError as exc:
            raise ValueError(f"{text!r}: bad regular expression: {exc}") from exc
    return matcher


class RouteSettings(Section):
    """Which notifications go to one receiver; routes are tried in order and the first that
    matches wins, unless it says `continue: true`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    receiver: str = Field(description="Name of a receiver.")
    matchers: list[str] = Field(
        default_factory=list,
        description="Label matchers, all of which must hold: name=value, name!=value, "
        "name=~regex, name!~regex (labels: alertname, resource, metric, severity, kind, "
        "region, owner, incident, detector, type, status).",
    )
    min_severity: Severity = Field(default=Severity.LOW, description="Lowest severity sent.")
    owners: list[str] = Field(
        default_factory=list,
        description="Only resources whose `owner` or `team` tag is one of these (empty: any).",
    )
    types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ROUTE_TYPES),
        description="Hub message types this route takes.",
    )
    continue_: bool = Field(
        default=False, alias="continue", description="Keep trying later routes after a match."
    )
    rate_limit_per_minute: int | None = Field(
        default=None, ge=1, description="At most this many notifications a minute (any: none)."
    )
    repeat_interval: dict[Severity, Duration] = Field(
        default_factory=dict,
        description="Per severity, replaces notify.repeat_interval for this route.",
    )

    @field_validator("matchers")
    @classmethod
    def _matchers(cls, value: list[str]) -> list[str]:
        for text in value:
            parse_matcher(text)
        return value

    @field_validator("types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - NOTIFIABLE_TYPES)
        if unknown:
            known = ", ".join(sorted(NOTIFIABLE_TYPES))
            raise ValueError(f"unknown message types {unknown} (known: {known})")
        if not value:
            raise ValueError("must name at least one message type")
        return value

    def parsed_matchers(self) -> list[Matcher]:
        return [parse_matcher(text) for text in self.matchers]


class RetrySettings(Section):
    attempts: int = Field(default=4, ge=1, le=20, description="Tries per notification.")
    backoff_s: float = Field(
        default=1.0, ge=0, description="Wait before the second try; doubles after each failure."
    )
    max_backoff_s: float = Field(default=60.0, ge=0, description="Longest wait between tries.")
    send_timeout_s: float = Field(
        default=120.0, gt=0, description="A single try taking longer counts as a timeout."
    )


class NotifySettings(Section):
    """Notifications of anomalies and incidents (see docs/notifications.md); with no routes
    nothing is sent."""

    external_url: AnyHttpUrl | None = Field(
        default=None,
        description="opsgraph's address as people reach it, for links; default: http://"
        "<api.host>:<api.port>.",
    )
    receivers: list[ReceiverSettings] = Field(
        default_factory=list, description="Where notifications can go."
    )
    routes: list[RouteSettings] = Field(
        default_factory=list, description="Which notifications go where, tried in order."
    )
    repeat_interval: dict[Severity, Duration] = Field(
        default_factory=_default_repeat,
        description="By severity: how long a still-open alert waits before it is sent again.",
    )
    retry: RetrySettings = Field(default_factory=RetrySettings)
    queue_size: int = Field(
        default=1000, ge=1, description="Notifications waiting per receiver; the oldest go first."
    )

    @field_validator("repeat_interval")
    @classmethod
    def _complete(cls, value: dict[Severity, float]) -> dict[Severity, float]:
        # A partial map keeps the defaults for the severities it leaves out.
        return {**_default_repeat(), **value}

    @model_validator(mode="after")
    def _references(self) -> NotifySettings:
        names = [r.name for r in self.receivers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"receivers: duplicate names {duplicates}")
        for i, route in enumerate(self.routes):
            if route.receiver not in names:
                raise ValueError(f"routes[{i}].receiver: no receiver named {route.receiver!r}")
        return self


class EventsSettings(Section):
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
