"""Domain objects handed between pipeline stages.

Pydantic models for what crosses a boundary (API, store, events); `SampleFrame` is the columnar
numpy form that the hot path (ingest -> detect) uses so no stage loops over samples in Python.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from opsgraph.core.metrics import METRIC_NAME_RE, RESOURCE_ID_RE
from opsgraph.core.regex import compile_safe, full_match


class ResourceKind(StrEnum):
    ELB = "elb"
    EC2 = "ec2"
    ASG = "asg"
    LAMBDA = "lambda"
    RDS = "rds"
    S3 = "s3"
    CACHE = "cache"
    K8S_SERVICE = "k8s_service"
    K8S_POD = "k8s_pod"
    GENERIC = "generic"


class DependencyKind(StrEnum):
    #: source sends requests to target: load flows source -> target, latency and errors flow back.
    CALLS = "calls"
    #: source is a group (ASG, k8s service) and target one of its members.
    MEMBER = "member"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}

#: Score thresholds, highest first: score >= bound gives that severity.
SEVERITY_BOUNDS: tuple[tuple[float, Severity], ...] = (
    (0.85, Severity.CRITICAL),
    (0.65, Severity.HIGH),
    (0.35, Severity.MEDIUM),
)


def severity_for(score: float) -> Severity:
    """Map a calibrated anomaly score in [0, 1] to a severity."""
    for bound, severity in SEVERITY_BOUNDS:
        if score >= bound:
            return severity
    return Severity.LOW


def severity_codes(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.int8]:
    """Vectorised `severity_for`: 0 low, 1 medium, 2 high, 3 critical."""
    bounds = np.array([b for b, _ in reversed(SEVERITY_BOUNDS)])
    return np.searchsorted(bounds, scores, side="right").astype(np.int8)


SEVERITY_BY_CODE: tuple[Severity, ...] = (
    Severity.LOW,
    Severity.MEDIUM,
    Severity.HIGH,
    Severity.CRITICAL,
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)


def check_resource_id(value: str) -> str:
    if not RESOURCE_ID_RE.match(value):
        raise ValueError(
            "must start with a letter or digit and hold only letters, digits and _ . : @ - "
            "(at most 200 characters)"
        )
    return value


def check_finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number (NaN and infinity are refused)")
    return value


class Resource(_Model):
    """A node of the estate: a load balancer, instance, function, database, bucket, pod..."""

    id: str
    kind: ResourceKind = ResourceKind.GENERIC
    name: str = ""
    provider: str = "sim"
    region: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    attrs: dict[str, Any] = Field(default_factory=dict)

    _check_id = field_validator("id")(check_resource_id)


class Dependency(_Model):
    """An edge: `source` depends on `target` (calls it, or contains it as a member)."""

    source: str
    target: str
    kind: DependencyKind = DependencyKind.CALLS
    inferred: bool = False

    _check_ids = field_validator("source", "target")(check_resource_id)


class Sample(_Model):
    """One observation of one metric of one resource at a time (epoch seconds)."""

    resource_id: str
    metric: str
    ts: float
    value: float

    _check_id = field_validator("resource_id")(check_resource_id)

    @field_validator("metric")
    @classmethod
    def _check_metric(cls, value: str) -> str:
        if not METRIC_NAME_RE.match(value):
            raise ValueError("must match [a-zA-Z_][a-zA-Z0-9_:.]* (at most 128 characters)")
        return value

    _check_numbers = field_validator("ts", "value")(check_finite)

    @field_validator("ts", "value", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("must be a number, not a boolean")
        return value


class LogLevel(StrEnum):
    """Canonical levels, least to most severe (aliases such as WARN or FATAL map onto these)."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


class LogRecord(_Model):
    """One log line of one resource, with its template and anomaly score in [0, 1]."""

    id: int | None = None
    ts: float
    resource_id: str
    level: LogLevel = LogLevel.INFO
    message: str
    template_id: int | None = None
    template: str = ""
    score: float = Field(default=0.0, ge=0.0, le=1.0)

    _check_id = field_validator("resource_id")(check_resource_id)
    _check_ts = field_validator("ts")(check_finite)


@dataclass(frozen=True, slots=True)
class SampleColumns:
    """Samples as columns, the fast path of bulk sources (remote write): sample i is series
    keys[series[i]] = (resource_id, metric) at ts[i] with values[i]. Ids and names must already
    be valid; ingest checks that values are finite and resources known."""

    keys: list[tuple[str, str]]
    series: npt.NDArray[np.int64]
    ts: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        n = self.series.shape[0]
        if self.ts.shape != (n,) or self.values.shape != (n,):
            raise ValueError("series, ts and values must be one-dimensional and of one length")
        if n and (int(self.series.min()) < 0 or int(self.series.max()) >= len(self.keys)):
            raise ValueError("series holds an index outside keys")

    def __len__(self) -> int:
        return int(self.series.shape[0])

    @classmethod
    def from_samples(cls, samples: Sequence[Sample]) -> SampleColumns:
        index: dict[tuple[str, str], int] = {}
        series = [index.setdefault((s.resource_id, s.metric), len(index)) for s in samples]
        n = len(samples)
        return cls(
            keys=list(index),
            series=np.asarray(series, dtype=np.int64).reshape(n),
            ts=np.fromiter((s.ts for s in samples), dtype=np.float64, count=n),
            values=np.fromiter((s.value for s in samples), dtype=np.float64, count=n),
        )

    def to_samples(self) -> list[Sample]:
        """The same samples as validated objects (for inspection and tests; slow)."""
        return [
            Sample(resource_id=self.keys[k][0], metric=self.keys[k][1], ts=t, value=v)
            for k, t, v in zip(
                self.series.tolist(), self.ts.tolist(), self.values.tolist(), strict=True
            )
        ]


@dataclass(frozen=True, slots=True)
class SampleFrame:
    """All metrics of many resources at one timestamp: values[i, j] is metric j of resource i.

    NaN marks a missing value (a gap), which is neither stored nor scored.
    """

    ts: float
    resource_ids: tuple[str, ...]
    metrics: tuple[str, ...]
    values: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        expected = (len(self.resource_ids), len(self.metrics))
        if self.values.shape != expected:
            raise ValueError(f"values has shape {self.values.shape}, expected {expected}")

    @property
    def size(self) -> int:
        return int(self.values.size)


class AnomalyStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Anomaly(_Model):
    """An episode of one series being abnormal: opened at start_ts, updated while it lasts."""

    id: int | None = None
    resource_id: str
    metric: str
    detector: str
    start_ts: float
    last_ts: float
    end_ts: float | None = None
    score: float = Field(ge=0.0, le=1.0)
    max_score: float = Field(ge=0.0, le=1.0)
    severity: Severity
    value: float
    expected: float
    status: AnomalyStatus = AnomalyStatus.OPEN
    incident_id: int | None = None
    fingerprint: str = ""  # same fingerprint, same alert (fields set by alerts.fingerprint)
    duplicate_of: int | None = None  # an open anomaly with the same fingerprint
    silence_id: int | None = None  # the silence that muted its notifications
    reason: str = ""  # why it was suppressed, deduplicated or left out of an incident


class ExternalAlert(_Model):
    """An alert raised by another system (Alertmanager, a CloudWatch alarm): it joins the
    anomalies as an episode of its own, grouped into incidents like ours.

    `fingerprint` identifies the alert across notifications (same fingerprint, same episode);
    `metric` names what it is about, `resource_id` where (registered when new)."""

    source: str = Field(min_length=1, max_length=64)
    fingerprint: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    resource_id: str
    metric: str
    firing: bool
    severity: Severity
    starts_at: float
    ends_at: float | None = None
    value: float = 1.0
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)

    _check_id = field_validator("resource_id")(check_resource_id)


class IncidentStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Incident(_Model):
    """Related anomalies grouped into one problem an operator works on."""

    id: int | None = None
    title: str
    status: IncidentStatus = IncidentStatus.OPEN
    severity: Severity
    opened_ts: float
    resolved_ts: float | None = None
    root_resource_id: str | None = None
    resource_ids: list[str] = Field(default_factory=list)
    summary: str = ""
    #: Data time of its last activity at paging severity (`alerts.open_at`): related anomalies
    #: join it within `alerts.group_window_s` of this.
    updated_ts: float | None = None
    acknowledged_ts: float | None = None
    acknowledged_by: str | None = None
    #: The root-cause ranker's confidence in `root_resource_id` (None: not ranked; the root is
    #: then the first anomaly to start).
    root_confidence: float | None = None
    #: The ranker's best hypotheses, best first: node, confidence, score and evidence.
    hypotheses: list[dict[str, Any]] = Field(default_factory=list)


class IncidentEvent(_Model):
    """One line of an incident's timeline: opened, grouped (with why), acknowledged, resolved,
    reopened, a note, an action."""

    id: int | None = None
    incident_id: int
    ts: float
    kind: str = Field(min_length=1, max_length=64)
    actor: str = "opsgraph"
    message: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)


class Matcher(_Model):
    """Matches one label of an alert: equality, or a full-match regular expression."""

    label: str = Field(min_length=1, max_length=128)
    value: str = Field(max_length=1000)
    regex: bool = False
    negate: bool = False

    @model_validator(mode="after")
    def _check_regex(self) -> Matcher:
        if self.regex:
            try:
                compile_safe(self.value)
            except ValueError as exc:
                raise ValueError(f"value is not a valid regular expression: {exc}") from exc
        return self

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.label, "")
        hit = full_match(self.value, actual) if self.regex else actual == self.value
        return hit != self.negate


class Silence(_Model):
    """Mutes the notifications of alerts whose labels match every matcher, for a time range.
    Silenced anomalies are still recorded, with the silence and its comment as the reason."""

    id: int | None = None
    matchers: list[Matcher] = Field(min_length=1, max_length=50)
    starts_ts: float
    ends_ts: float
    comment: str = Field(default="", max_length=2000)
    created_by: str = "api"
    created_ts: float

    def active_at(self, ts: float) -> bool:
        return self.starts_ts <= ts < self.ends_ts

    def matches(self, labels: dict[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    def describe(self) -> str:
        rules = ", ".join(
            f"{m.label}{'!' if m.negate else ''}{'=~' if m.regex else '='}{m.value!r}"
            for m in self.matchers
        )
        return f"silence #{self.id} ({rules}) by {self.created_by}" + (
            f": {self.comment}" if self.comment else ""
        )


class Event(_Model):
    """Something that happened in or to the estate: a fault, a deploy, a calendar event."""

    id: int | None = None
    ts: float
    kind: str
    resource_id: str | None = None
    severity: Severity | None = None
    message: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)


class AuditEvent(_Model):
    """An append-only record of a side effect: who did what, why, with which inputs and result."""

    id: int | None = None
    ts: float
    actor: str
    action: str
    target: str | None = None
    reason: str = ""
    inputs: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] = Field(default_factory=dict)


class FeedbackVerdict(StrEnum):
    FALSE_POSITIVE = "false_positive"
    CONFIRMED = "confirmed"


class Feedback(_Model):
    """An operator's verdict on an anomaly; the decision step learns from it."""

    id: int | None = None
    anomaly_id: int
    resource_id: str
    metric: str
    verdict: FeedbackVerdict
    score: float = Field(ge=0.0, le=1.0)  # the anomaly's peak score when judged
    note: str = ""
    actor: str = "api"
    ts: float


class MaintenanceWindow(_Model):
    """A time range in which anomalies on the listed resources do not alert."""

    id: int | None = None
    resource_ids: list[str] = Field(min_length=1)
    start_ts: float
    end_ts: float
    reason: str = ""
    actor: str = "api"
    created_ts: float

    def active_at(self, ts: float) -> bool:
        return self.start_ts <= ts < self.end_ts


class CalendarEvent(BaseModel):
    """A business event (sale, promotion, holiday) that multiplies traffic between start_ts
    and end_ts. Detection treats it as a known cause: a change it explains is not an anomaly."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    start_ts: float
    end_ts: float
    multiplier: float = Field(gt=0.0, le=100.0)
    kind: Literal["sale", "promotion", "holiday"] = "promotion"

    @model_validator(mode="after")
    def _check_span(self) -> CalendarEvent:
        if not (math.isfinite(self.start_ts) and math.isfinite(self.end_ts)):
            raise ValueError("start_ts and end_ts must be finite")
        if self.end_ts <= self.start_ts:
            raise ValueError("end_ts must be after start_ts")
        return self

    def active_at(self, ts: float) -> bool:
        return self.start_ts <= ts < self.end_ts
