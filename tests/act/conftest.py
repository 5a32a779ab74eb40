"""An automation over a small estate in a SQLite file: a group of four instances and a
database, a hand-driven clock, and a recording executor in place of a cloud."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from opsgraph.act.executors import ActionRequest, Plan, Result
from opsgraph.act.policy import Policy, parse_policies
from opsgraph.act.service import Automation
from opsgraph.act.settings import AutomationSettings
from opsgraph.core.models import (
    Anomaly,
    AnomalyStatus,
    Dependency,
    DependencyKind,
    Incident,
    Resource,
    ResourceKind,
    Severity,
)
from opsgraph.store import Store

T0 = 1_790_000_000.0  # a Monday, 14:13 UTC


class Recorder:
    """An executor that records what it executes; it can fail, or hang until released."""

    name = "fake"

    def __init__(self) -> None:
        self.executed: list[ActionRequest] = []
        self.calls = 0  # executions begun (a hanging one included)
        self.failures = 0  # fail this many attempts first
        self.hang = threading.Event()  # set: attempts block until `release` is set
        self.release = threading.Event()
        self.details: dict[str, Any] = {}  # what each success reports

    def plan(self, request: ActionRequest, *, dry_run: bool = True) -> Plan:
        return Plan(
            executor=self.name,
            request=request,
            dry_run=dry_run,
            steps=[f"fake {request.action} {request.target}"],
        )

    def execute(self, plan: Plan) -> Result:
        if plan.dry_run:
            return Result(ok=True, dry_run=True, message="dry run")
        self.calls += 1
        if self.hang.is_set():
            self.release.wait()
            return Result(ok=True, message="late")
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("cloud API unreachable")
        self.executed.append(plan.request)
        return Result(ok=True, message=f"did {plan.request.action}", details=self.details)


class Clock:
    def __init__(self) -> None:
        self.now = T0 + 600

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'act.db'}")
    s.migrate()
    resources = [
        Resource(id="grp", kind=ResourceKind.ASG, attrs={}),
        *[
            Resource(id=f"i{n}", kind=ResourceKind.EC2, attrs={"state": "running"})
            for n in range(4)
        ],
        Resource(id="db", kind=ResourceKind.RDS, tags={"team": "data"}),
        Resource(id="off", kind=ResourceKind.EC2, attrs={"state": "stopped"}),
        Resource(id="fn", kind=ResourceKind.LAMBDA),
    ]
    deps = [Dependency(source="grp", target=f"i{n}", kind=DependencyKind.MEMBER) for n in range(4)]
    s.upsert_topology(resources, deps)
    yield s
    s.close()


def add_incident(
    store: Store,
    root: str,
    *,
    metric: str = "cpu",
    severity: Severity = Severity.HIGH,
    also: Sequence[str] = (),
) -> Incident:
    """An open incident rooted at `root` with one open anomaly there (and one on each of
    `also`)."""
    anomalies = [
        Anomaly(
            resource_id=node,
            metric=metric,
            detector="test",
            start_ts=T0,
            last_ts=T0 + 60,
            score=0.8,
            max_score=0.9,
            severity=severity,
            value=97.0,
            expected=40.0,
        )
        for node in (root, *also)
    ]
    empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
    saved = store.write_batch(
        series_ids=empty_i, ts=empty_f, values=empty_f, new_anomalies=anomalies
    )
    incident = store.add_incident(
        Incident(
            title=f"{root}: {metric}",
            severity=severity,
            opened_ts=T0,
            root_resource_id=root,
            root_confidence=0.9,  # as the ranker would have placed it
            resource_ids=[root, *also],
            updated_ts=T0 + 60,
        )
    )
    assert incident.id is not None
    store.link_anomalies([a.id for a in saved if a.id is not None], incident.id)
    return incident


def clear_anomalies(store: Store, incident_id: int) -> None:
    for anomaly in store.incident_anomalies(incident_id):
        assert anomaly.id is not None
        store.set_anomaly_fields(anomaly.id, status=AnomalyStatus.RESOLVED, end_ts=T0 + 120)


def policy(text: str) -> Policy:
    (parsed,) = parse_policies(text)
    return parsed


MakeAutomation = Callable[..., Automation]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def messages() -> list[tuple[str, Any]]:
    return []


@pytest.fixture
def make_automation(
    store: Store, recorder: Recorder, clock: Clock, messages: list[tuple[str, Any]]
) -> Iterator[MakeAutomation]:
    made: list[Automation] = []

    def make(*policies: Policy, **settings: Any) -> Automation:
        cfg = AutomationSettings(
            default_executor="fake",
            backoff_s=0.0,
            tick_s=0,
            **settings,
        )
        resources = {r.id: r for r in store.list_resources()}
        deps = store.list_dependencies()
        automation = Automation(
            store,
            cfg,
            clock=clock,
            resources=lambda: resources,
            dependencies=lambda: deps,
            publish=lambda t, d: messages.append((t, d)),
            policies=list(policies),
            executors={"fake": recorder},
        )
        made.append(automation)
        return automation

    yield make
    for automation in made:
        automation.drain()
        automation.close()
