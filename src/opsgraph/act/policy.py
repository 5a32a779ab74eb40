"""Remediation policies as YAML: what triggers them (an incident filter), extra conditions, the
actions with their parameters, the mode (dry-run by default) and the guardrails that bound them.

`load_policies(path)` reads a file or a folder; every error names the file and the field.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from opsgraph.act.actions import validate_action
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import (
    Anomaly,
    Event,
    Incident,
    IncidentStatus,
    Resource,
    ResourceKind,
    Severity,
)

#: Event kinds that record a change of a resource (a deploy, a configuration push) start so.
CHANGE = "change."

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TriggerEvent = Literal["opened", "grouped", "updated"]


def _default_events() -> list[TriggerEvent]:
    return ["opened", "grouped"]


def _all_days() -> list[Day]:
    return list(DAYS)


class Mode(StrEnum):
    DRY_RUN = "dry_run"
    APPROVAL = "approval"
    AUTO = "auto"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Trigger(_Section):
    """Which incidents the policy looks at; every given field must match."""

    events: list[TriggerEvent] = Field(default_factory=_default_events)
    resource_kinds: list[ResourceKind] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    min_severity: Severity = Severity.LOW
    metrics: list[str] = Field(default_factory=list, description="Dominant signal, glob.")
    root_cause: list[str] = Field(default_factory=list, description="Root node ids, glob.")
    exclude_metrics: list[str] = Field(
        default_factory=list,
        description="Not while the root has an anomaly on one of these metrics (glob): a "
        "symptom that says the cure is another one (a full disk is not cured by a failover).",
    )
    min_duration_s: float = Field(default=0.0, ge=0)
    min_root_confidence: float | None = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Actions on the root (target root or group) only when the root-cause "
        "ranker put the root first with at least this confidence; null: also on an unranked "
        "root (the first anomaly to start).",
    )
    changed_within_s: float | None = Field(
        default=None,
        gt=0,
        le=30 * 86_400,
        description="Only when the root resource changed (an event whose kind starts with "
        "`change.`, such as a deploy: `POST /events`) within this many seconds before the "
        "incident opened, or since: a rollback undoes a change, and without one it cures "
        "nothing. Null: no such check.",
    )


class Condition(_Section):
    """A comparison on a fact of the incident (see `facts`)."""

    field: Literal[
        "severity_rank", "resource_count", "anomaly_count", "duration_s", "max_score", "value"
    ]
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    value: float


class PolicyAction(_Section):
    action: str
    target: str = Field(
        default="root", description="root, dominant, group, or resource:<id> (the node acted on)."
    )
    params: dict[str, Any] = Field(default_factory=dict)
    executor: str | None = Field(default=None, description="Executor name; none: the default.")

    @field_validator("target")
    @classmethod
    def _target(cls, value: str) -> str:
        if value not in ("root", "dominant", "group") and not (
            value.startswith("resource:") and len(value) > len("resource:")
        ):
            raise ValueError("must be root, dominant, group or resource:<id>")
        return value

    @model_validator(mode="after")
    def _check_action(self) -> PolicyAction:
        try:
            self.params = validate_action(self.action, self.params)
        except InvalidInputError as exc:
            raise ValueError(f"{exc.field}: {exc.reason}") from exc
        return self


class RateLimit(_Section):
    per_resource_per_hour: int | None = Field(default=None, ge=1)
    global_per_hour: int | None = Field(default=None, ge=1)


class BlastRadius(_Section):
    max_resources: int | None = Field(
        default=None, ge=1, description="Distinct resources acted on in the last hour."
    )
    max_percent: float | None = Field(
        default=None, gt=0, le=100, description="Share of a group's members acted on per hour."
    )


class TimeWindow(_Section):
    """Acting is allowed on these days between start and end (UTC, end exclusive)."""

    days: list[Day] = Field(default_factory=_all_days, min_length=1)
    start: str = "00:00"
    end: str = "24:00"

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if value != "24:00" and not _HHMM.match(value):
            raise ValueError("must be HH:MM (24-hour, UTC)")
        return value

    def contains(self, ts: float) -> bool:
        when = dt.datetime.fromtimestamp(ts, dt.UTC)
        minute = when.hour * 60 + when.minute
        start = int(self.start[:2]) * 60 + int(self.start[3:])
        end = int(self.end[:2]) * 60 + int(self.end[3:])
        return DAYS[when.weekday()] in self.days and start <= minute < end


class Policy(_Section):
    name: str
    description: str = ""
    enabled: bool = True
    trigger: Trigger = Field(default_factory=Trigger)
    conditions: list[Condition] = Field(default_factory=list)
    actions: list[PolicyAction] = Field(min_length=1, max_length=20)
    mode: Mode = Mode.DRY_RUN
    cooldown_s: float = Field(default=900.0, ge=0, description="Per target, data seconds.")
    rate_limit: RateLimit = Field(default_factory=RateLimit)
    blast_radius: BlastRadius = Field(default_factory=BlastRadius)
    allowed_states: list[IncidentStatus] = Field(
        default_factory=lambda: [IncidentStatus.OPEN], min_length=1
    )
    time_windows: list[TimeWindow] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError("must be 1-64 letters, digits, _ . - (starting with a letter/digit)")
        return value


def _relative_change(anomaly: Anomaly) -> float:
    return abs(anomaly.value - anomaly.expected) / max(abs(anomaly.expected), 1e-9)


@dataclass(frozen=True)
class Situation:
    """What a policy is judged on: the incident, its anomalies and the estate, at `now`."""

    incident: Incident
    anomalies: Sequence[Anomaly]
    resources: dict[str, Resource]
    now: float
    event: str
    #: Change events (`change.*`) of the incident's root, for `trigger.changed_within_s`.
    changes: Sequence[Event] = ()

    @property
    def dominant(self) -> Anomaly | None:
        """The anomaly with the highest score; among equals (a rarity score tops out at one
        in 10^10), the one furthest from its expected value relative to it: in a traffic
        spike, requests tripled before CPU doubled."""
        return max(
            self.anomalies,
            key=lambda a: (a.max_score, _relative_change(a), -(a.id or 0)),
            default=None,
        )

    def facts(self) -> dict[str, float]:
        top = self.dominant
        return {
            "severity_rank": float(self.incident.severity.rank),
            "resource_count": float(len(self.incident.resource_ids)),
            "anomaly_count": float(len(self.anomalies)),
            "duration_s": self.now - self.incident.opened_ts,
            "max_score": top.max_score if top else 0.0,
            "value": top.value if top else 0.0,
        }


_OPS = {
    "<": float.__lt__,
    "<=": float.__le__,
    ">": float.__gt__,
    ">=": float.__ge__,
    "==": float.__eq__,
    "!=": float.__ne__,
}


def mismatch(policy: Policy, s: Situation) -> str | None:
    """Why the policy does not apply to the situation, or None when it does."""
    t, incident = policy.trigger, s.incident
    event = "updated" if s.event not in ("opened", "grouped") else s.event
    if not policy.enabled:
        return "policy disabled"
    if event not in t.events and s.event not in t.events:
        return f"event {s.event} not in trigger.events"
    if incident.severity.rank < t.min_severity.rank:
        return f"severity {incident.severity.value} below {t.min_severity.value}"
    root = s.resources.get(incident.root_resource_id or "")
    if t.resource_kinds and (root is None or root.kind not in t.resource_kinds):
        return "root resource kind not in trigger.resource_kinds"
    if t.tags and (root is None or any(root.tags.get(k) != v for k, v in t.tags.items())):
        return "root resource tags do not match trigger.tags"
    if t.root_cause and not any(
        fnmatch.fnmatchcase(incident.root_resource_id or "", p) for p in t.root_cause
    ):
        return "root cause not in trigger.root_cause"
    top = s.dominant
    if t.metrics and (
        top is None or not any(fnmatch.fnmatchcase(top.metric, p) for p in t.metrics)
    ):
        return "dominant signal not in trigger.metrics"
    root_id = incident.root_resource_id
    for a in s.anomalies:
        if a.resource_id == root_id and any(
            fnmatch.fnmatchcase(a.metric, p) for p in t.exclude_metrics
        ):
            return f"root {root_id} has a {a.metric} anomaly (trigger.exclude_metrics)"
    bound = t.min_root_confidence
    if bound is not None and any(a.target in ("root", "group") for a in policy.actions):
        if incident.root_confidence is None:
            return "root not ranked (trigger.min_root_confidence needs the ranker's root)"
        if incident.root_confidence < bound:
            return (
                f"root {incident.root_resource_id} ranked with confidence "
                f"{incident.root_confidence:.2f}, below trigger.min_root_confidence {bound:g}"
            )
    if t.changed_within_s is not None:
        since, root_id = incident.opened_ts - t.changed_within_s, incident.root_resource_id
        if not any(
            e.resource_id == root_id and since <= e.ts <= s.now and e.kind.startswith(CHANGE)
            for e in s.changes
        ):
            return (
                f"no change of {root_id} within trigger.changed_within_s "
                f"({t.changed_within_s:g}s) before the incident: nothing to roll back"
            )
    if s.now - incident.opened_ts < t.min_duration_s:
        return f"incident younger than trigger.min_duration_s ({t.min_duration_s:g}s)"
    facts = s.facts()
    for i, c in enumerate(policy.conditions):
        if not _OPS[c.op](facts[c.field], float(c.value)):
            return f"conditions[{i}]: {c.field} {c.op} {c.value:g} is false ({facts[c.field]:g})"
    return None


def _error(source: str, exc: ValidationError) -> InvalidInputError:
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err["loc"]) or "policy"
    return InvalidInputError(f"{source}: {loc}", err["msg"].removeprefix("Value error, "))


def parse_policies(text: str, source: str = "<text>") -> list[Policy]:
    """Policies of one YAML document: a mapping (one policy), a list, or {policies: [...]}."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError(source, f"not valid YAML: {exc}") from exc
    if isinstance(data, dict) and "policies" in data and set(data) == {"policies"}:
        data = data["policies"]
    items = data if isinstance(data, list) else [data]
    out = []
    for i, item in enumerate(items):
        where = source if not isinstance(data, list) else f"{source}[{i}]"
        if not isinstance(item, dict):
            raise InvalidInputError(where, "a policy must be a mapping")
        try:
            out.append(Policy.model_validate(item))
        except ValidationError as exc:
            raise _error(where, exc) from exc
    return out


def policy_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if path.is_file():
        return [path]
    raise InvalidInputError("policy_dir", f"{str(path)!r} does not exist")


#: The starting policy set that ships with opsgraph (the demo and the benchmark run it).
SHIPPED_POLICIES = Path(__file__).parent / "policies"


def load_policies(path: Path | None) -> list[Policy]:
    """Every policy of a file or folder; names must be unique across them."""
    if path is None:
        return []
    policies: list[Policy] = []
    seen: dict[str, str] = {}
    for file in policy_files(path):
        for policy in parse_policies(file.read_text(encoding="utf-8"), str(file)):
            if policy.name in seen:
                raise InvalidInputError(
                    f"{file}: name",
                    f"policy {policy.name!r} is already defined in {seen[policy.name]}",
                )
            seen[policy.name] = str(file)
            policies.append(policy)
    return policies


def resolve_target(spec_target: str, situation: Situation, groups: dict[str, str]) -> str | None:
    """The node an action of a policy acts on; `groups` maps members to their group."""
    incident = situation.incident
    if spec_target == "root":
        return incident.root_resource_id
    if spec_target == "dominant":
        top = situation.dominant
        return top.resource_id if top else incident.root_resource_id
    if spec_target == "group":
        for node in (incident.root_resource_id, *(a.resource_id for a in situation.anomalies)):
            if node is None:
                continue
            node_kind = situation.resources.get(node)
            if node_kind is not None and node_kind.kind in (
                ResourceKind.ASG,
                ResourceKind.K8S_SERVICE,
            ):
                return node
            if node in groups:
                return groups[node]
        return None
    return spec_target.removeprefix("resource:")
