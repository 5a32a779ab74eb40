"""Incidents open once related anomalies reach `alerts.open_at`, and escalate while they last."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from opsgraph.alerts.lifecycle import AlertLifecycle
from opsgraph.alerts.settings import AlertSettings
from opsgraph.core.models import (
    Anomaly,
    AnomalyStatus,
    Dependency,
    Incident,
    Resource,
    ResourceKind,
    Severity,
)
from opsgraph.store import Store

DEPS = [Dependency(source="web", target="api"), Dependency(source="api", target="db")]
RESOURCES = {r: Resource(id=r, kind=ResourceKind.EC2, name=r) for r in ("web", "api", "db")}


def _setup(tmp_path: Path, **settings: object) -> tuple[Store, AlertLifecycle, list[str]]:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    store.migrate()
    store.upsert_topology(list(RESOURCES.values()), DEPS)
    life = AlertLifecycle(
        store,
        AlertSettings(**settings),
        resources=lambda: RESOURCES,
        dependencies=lambda: DEPS,
        publish=lambda kind, data: None,
    )
    pages: list[str] = []
    life.on_incident.append(lambda i, kind: pages.append(f"{kind}:{i.severity.value}"))
    return store, life, pages


def _open(
    store: Store,
    resource: str,
    ts: float,
    score: float,
    severity: Severity,
    metric: str = "latency_ms",
) -> Anomaly:
    a = Anomaly(
        resource_id=resource,
        metric=metric,
        detector="d",
        start_ts=ts,
        last_ts=ts,
        score=score,
        max_score=score,
        severity=severity,
        value=1.0,
        expected=0.0,
    )
    empty = np.zeros(0)
    (stored,) = store.write_batch(
        series_ids=np.zeros(0, np.int64), ts=empty, values=empty, new_anomalies=[a]
    )
    a.id = stored.id
    return a


def _rise(store: Store, a: Anomaly, ts: float, score: float, severity: Severity) -> None:
    a.last_ts, a.score, a.max_score, a.severity = ts, score, score, severity
    empty = np.zeros(0)
    store.write_batch(
        series_ids=np.zeros(0, np.int64), ts=empty, values=empty, updated_anomalies=[a]
    )


def _close(store: Store, a: Anomaly, ts: float) -> None:
    a.status, a.end_ts = AnomalyStatus.RESOLVED, ts
    empty = np.zeros(0)
    store.write_batch(
        series_ids=np.zeros(0, np.int64), ts=empty, values=empty, updated_anomalies=[a]
    )


def _incidents(store: Store) -> list[Incident]:
    return store.list_incidents(limit=10)[0]


def test_medium_neighbours_wait_until_one_escalates(tmp_path: Path) -> None:
    store, life, pages = _setup(tmp_path)
    db = _open(store, "db", 0.0, 0.5, Severity.MEDIUM)
    api = _open(store, "api", 60.0, 0.45, Severity.MEDIUM)
    life.process([db], [])
    life.process([api], [])
    assert _incidents(store) == []
    assert "the strongest medium" in store.get_anomaly(api.id or 0).reason
    _rise(store, db, 120.0, 0.7, Severity.HIGH)
    life.process([], [], [db, api])
    (incident,) = _incidents(store)
    assert incident.severity is Severity.HIGH and incident.root_resource_id == "db"
    assert {a.id for a in store.incident_anomalies(incident.id or 0)} == {db.id, api.id}
    assert pages == ["opened:high"]
    # seen again at the same severity: nothing more happens
    life.process([], [], [db, api])
    assert len(_incidents(store)) == 1 and pages == ["opened:high"]


def test_a_member_that_escalates_raises_its_incident(tmp_path: Path) -> None:
    store, life, pages = _setup(tmp_path)
    db = _open(store, "db", 0.0, 0.7, Severity.HIGH)
    api = _open(store, "api", 60.0, 0.5, Severity.MEDIUM)
    life.process([db], [])
    life.process([api], [])
    (incident,) = _incidents(store)
    assert incident.severity is Severity.HIGH
    _rise(store, api, 120.0, 0.9, Severity.CRITICAL)
    life.process([], [], [api])
    (incident,) = _incidents(store)
    assert incident.severity is Severity.CRITICAL
    assert pages == ["opened:high", "grouped:high", "escalated:critical"]
    events = store.incident_timeline(incident.id or 0)
    assert events[-1].kind == "escalated" and "api/latency_ms" in events[-1].message


def test_open_at_medium_opens_on_every_related_pair(tmp_path: Path) -> None:
    store, life, _ = _setup(tmp_path, open_at=Severity.MEDIUM)
    life.process([_open(store, "db", 0.0, 0.5, Severity.MEDIUM)], [])
    life.process([_open(store, "api", 60.0, 0.45, Severity.MEDIUM)], [])
    assert len(_incidents(store)) == 1


def test_lesser_anomalies_join_an_incident_but_do_not_keep_it_open(tmp_path: Path) -> None:
    store, life, pages = _setup(tmp_path, group_window_s=600.0)
    db = _open(store, "db", 0.0, 0.7, Severity.HIGH)
    api = _open(store, "api", 60.0, 0.7, Severity.HIGH)
    life.process([db, api], [])
    (incident,) = _incidents(store)
    # A stream of medium anomalies nearby joins while the incident's last page-level
    # activity (60 s) is within the window...
    web = _open(store, "web", 500.0, 0.45, Severity.MEDIUM)
    life.process([web], [])
    assert store.get_anomaly(web.id or 0).incident_id == incident.id
    assert _incidents(store)[0].updated_ts == 60.0
    # ...but does not stretch it: past the window the next fault opens an incident of its own.
    web2 = _open(store, "web", 700.0, 0.45, Severity.MEDIUM)
    life.process([web2], [])
    assert store.get_anomaly(web2.id or 0).incident_id is None
    db2 = _open(store, "db", 800.0, 0.9, Severity.CRITICAL, metric="error_rate")
    api2 = _open(store, "api", 810.0, 0.7, Severity.HIGH, metric="error_rate")
    life.process([db2, api2], [])
    assert len(_incidents(store)) == 2
    assert [p for p in pages if p.startswith("opened")] == ["opened:high", "opened:critical"]


def test_an_incident_reopened_by_hand_is_resolved_only_by_hand(tmp_path: Path) -> None:
    from opsgraph.core.models import IncidentStatus

    store, life, _ = _setup(tmp_path)
    db = _open(store, "db", 0.0, 0.7, Severity.HIGH)
    api = _open(store, "api", 60.0, 0.7, Severity.HIGH)
    life.process([db, api], [])
    (incident,) = _incidents(store)
    for a in (db, api):
        _close(store, a, 120.0)
    life.process([], [db, api])
    assert _incidents(store)[0].status is IncidentStatus.RESOLVED  # cleared: resolved itself
    life.set_incident_status(incident.id or 0, IncidentStatus.OPEN, actor="ann", note="not over")
    # A new anomaly joins it and clears: the operator's reopening stands.
    web = _open(store, "web", 150.0, 0.7, Severity.HIGH)
    life.process([web], [])
    assert store.get_anomaly(web.id or 0).incident_id == incident.id
    _close(store, web, 200.0)
    life.process([], [web])
    assert _incidents(store)[0].status is IncidentStatus.OPEN
    life.set_incident_status(incident.id or 0, IncidentStatus.RESOLVED, actor="ann")
    assert _incidents(store)[0].status is IncidentStatus.RESOLVED


def test_a_member_joining_from_an_older_copy_keeps_the_acknowledgement(tmp_path: Path) -> None:
    """The detection loop read the open incidents just before an operator acknowledged it
    (a race the demo's browser test met): the join writes its own fields, not the status."""
    from opsgraph.core.models import IncidentStatus

    store, life, _ = _setup(tmp_path)
    db = _open(store, "db", 0.0, 0.7, Severity.HIGH)
    api = _open(store, "api", 60.0, 0.7, Severity.HIGH)
    life.process([db, api], [])
    stale = store.open_incidents()
    (incident,) = stale
    life.set_incident_status(incident.id or 0, IncidentStatus.ACKNOWLEDGED, actor="ann")
    store.open_incidents = lambda: stale  # type: ignore[method-assign]
    web = _open(store, "web", 90.0, 0.9, Severity.CRITICAL)
    life.process([web], [])
    (after,) = _incidents(store)
    assert store.get_anomaly(web.id or 0).incident_id == incident.id
    assert after.status is IncidentStatus.ACKNOWLEDGED and after.acknowledged_by == "ann"
    assert after.severity is Severity.CRITICAL and "web" in after.resource_ids
