"""The notifier contract (a `Notification`, one async `send`), the in-memory notifier, and the
receiver types registered in the `opsgraph.notifiers` entry-point group.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Literal, Protocol, runtime_checkable

from opsgraph.core.errors import ConfigError, OpsgraphError
from opsgraph.core.models import Severity
from opsgraph.notify.settings import PluginReceiver, ReceiverSettings

GROUP = "opsgraph.notifiers"

#: The built-in receiver types, by the module and class that implement them.
BUILTIN: dict[str, str] = {
    "alertmanager": "opsgraph.notify.alertmanager:AlertmanagerNotifier",
    "slack": "opsgraph.notify.slack:SlackNotifier",
    "email": "opsgraph.notify.email:EmailNotifier",
    "webhook": "opsgraph.notify.webhook:WebhookNotifier",
    "memory": "opsgraph.notify.base:MemoryNotifier",
}


@dataclass(frozen=True, slots=True)
class Notification:
    """One thing to tell people about, whatever the channel.

    `fingerprint` is stable over the life of the alert (new, updates, resolved); `labels` are
    what routes match on and what Alertmanager-compatible receivers group by.
    """

    type: str
    fingerprint: str
    status: Literal["firing", "resolved"]
    severity: Severity
    title: str
    summary: str
    labels: dict[str, str]
    starts_at: float
    ends_at: float | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    resource_id: str | None = None
    metric: str | None = None
    value: float | None = None
    expected: float | None = None
    owner: str | None = None
    link: str | None = None
    #: opsgraph's own address as people reach it (notify.external_url).
    base_url: str = ""
    acknowledged: bool = False
    #: Why it must not go out at all (a silence, a duplicate of an alert already told).
    muted: str | None = None
    #: Why it is news in itself ("incident reopened"): the repeat interval does not hold it back.
    fresh: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "fingerprint": self.fingerprint,
            "status": self.status,
            "severity": self.severity.value,
            "title": self.title,
            "summary": self.summary,
            "labels": self.labels,
            "annotations": self.annotations,
            "starts_at": rfc3339(self.starts_at),
            "ends_at": rfc3339(self.ends_at) if self.ends_at is not None else None,
            "resource_id": self.resource_id,
            "metric": self.metric,
            "value": self.value,
            "expected": self.expected,
            "owner": self.owner,
            "link": self.link,
            "base_url": self.base_url,
            "data": self.data,
        }


def rfc3339(ts: float) -> str:
    """Epoch seconds as RFC 3339 UTC with milliseconds, the form Alertmanager writes."""
    moment = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def number(value: float | None) -> str:
    """A measurement for people: four significant digits, no exponent for everyday sizes."""
    if value is None:
        return "n/a"
    return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.3e}"


class DeliveryError(OpsgraphError):
    """A receiver did not take a notification. `retryable` errors (timeouts, refused
    connections, HTTP 5xx and 429, SMTP 4xx) are tried again after a back-off; others are not."""

    http_status = 502

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@runtime_checkable
class Notifier(Protocol):
    """Sends notifications to one receiver. `send` raises DeliveryError when it fails."""

    name: str

    async def send(self, notification: Notification) -> None: ...


class MemoryNotifier:
    """Keeps what it is sent; for tests and dry runs. `fail_with` makes the next sends fail."""

    def __init__(self, settings: PluginReceiver | None = None, *, name: str | None = None) -> None:
        self.name = name or (settings.name if settings is not None else "memory")
        self.sent: list[Notification] = []
        self.attempts = 0
        self.fail_with: list[DeliveryError] = []

    async def send(self, notification: Notification) -> None:
        self.attempts += 1
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.sent.append(notification)


NotifierFactory = Callable[[Any], Notifier]


def available() -> dict[str, str]:
    """Every receiver type, by name: the built-ins, then plug-ins (which cannot replace them)."""
    found = {ep.name: ep.value for ep in entry_points(group=GROUP)}
    return {**found, **BUILTIN}


def _load(target: str) -> NotifierFactory:
    factory: NotifierFactory = EntryPoint(name="", value=target, group=GROUP).load()
    return factory


def build_notifier(settings: ReceiverSettings) -> Notifier:
    """The notifier for one configured receiver; an unknown type or bad parameters raise
    ConfigError naming the receiver."""
    kinds = available()
    where = f"notify.receivers[{settings.name}]"
    if settings.type not in kinds:
        known = ", ".join(sorted(kinds))
        raise ConfigError(f"{where}.type: unknown receiver type {settings.type!r} ({known})")
    try:
        notifier = _load(kinds[settings.type])(settings)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    if not isinstance(notifier, Notifier):
        raise ConfigError(f"{where}.type: {settings.type!r} does not implement Notifier")
    return notifier
