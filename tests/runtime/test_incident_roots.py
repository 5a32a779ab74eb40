"""The ranked root replaces the first guess on the incident: its root, confidence, hypotheses,
title and timeline; a ranking that cannot be made leaves the guess and says why."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from opsgraph.core.models import Anomaly, Incident, Resource, Severity
from opsgraph.explain.incident import Diagnosis
from opsgraph.runtime.diagnosis import IncidentRoots
from opsgraph.store import Store


def test_a_moved_root_renames_the_incident_and_says_so(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    try:
        store.upsert_topology([Resource(id="web-1"), Resource(id="db-1")], [])
        incident = store.add_incident(
            Incident(
                title="web-1: latency_ms, error_rate",
                severity=Severity.HIGH,
                opened_ts=1.0,
                root_resource_id="web-1",
                resource_ids=["web-1", "db-1"],
            )
        )
        assert incident.id is not None
        published: list[tuple[str, dict[str, object]]] = []
        roots = IncidentRoots(store, lambda: [], publish=lambda k, d: published.append((k, d)))
        hypotheses = [{"node": "db-1", "confidence": 0.8, "score": 1.0, "evidence": []}]
        result = Diagnosis("db-1", 0.8, hypotheses, 0.0, "db-1 latency_ms rose", 2, 4)
        roots.apply(incident, result)
        saved = store.get_incident(incident.id)
        assert saved.title == "db-1: latency_ms, error_rate"
        assert (saved.root_resource_id, saved.root_confidence) == ("db-1", 0.8)
        assert saved.hypotheses == hypotheses
        (event,) = store.incident_timeline(incident.id)
        assert event.kind == "ranked"
        assert event.message.startswith("root db-1 (was web-1), confidence 0.80")
        assert published[-1][0] == "incident:update" and published[-1][1]["event"] == "ranked"
        # The same root again: nothing new on the timeline.
        roots.apply(saved, result)
        assert len(store.incident_timeline(incident.id)) == 1
    finally:
        store.close()


def _incident(store: Store, root: str, members: list[tuple[str, float]]) -> Incident:
    """An open incident on web-1 and db-1 rooted at `root`, with a high latency anomaly for
    each (resource, start) in `members`."""
    store.upsert_topology([Resource(id="web-1"), Resource(id="db-1")], [])
    incident = store.add_incident(
        Incident(
            title=f"{root}: latency_ms",
            severity=Severity.HIGH,
            opened_ts=1.0,
            root_resource_id=root,
            resource_ids=["web-1", "db-1"],
        )
    )
    empty = np.zeros(0)
    stored = store.write_batch(
        series_ids=np.zeros(0, np.int64),
        ts=empty,
        values=empty,
        new_anomalies=[
            Anomaly(
                resource_id=r,
                metric="latency_ms",
                detector="t",
                start_ts=t,
                last_ts=9.0,
                score=0.9,
                max_score=0.9,
                severity=Severity.HIGH,
                value=2.0,
                expected=1.0,
            )
            for r, t in members
        ],
    )
    store.link_anomalies([a.id for a in stored if a.id is not None], incident.id or 0)
    return incident


class _Scripted(IncidentRoots):
    """Rankings from a script instead of the samples: unsettled ones first."""

    def __init__(self, store: Store, results: list[Diagnosis], resumed: list[str]) -> None:
        super().__init__(store, lambda: [], resume=lambda i, e: resumed.append(f"{i.id}:{e}"))
        self.results = results

    def rank(self, resource_ids, onset, end, newest=None):  # type: ignore[no-untyped-def]
        return self.results.pop(0)


def test_an_unsettled_ranking_is_tried_again_after_each_batch_and_then_resumed(
    tmp_path: Path,
) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    try:
        incident = _incident(store, "web-1", [("web-1", 1.0), ("db-1", 2.0)])
        assert incident.id is not None
        hypotheses = [{"node": "db-1", "confidence": 0.8, "score": 1.0, "evidence": []}]
        unsettled = Diagnosis("db-1", 0.8, hypotheses, 0.0, "db-1 rose", 2, 4, settled=False)
        settled = Diagnosis("db-1", 0.8, hypotheses, 0.0, "db-1 rose", 2, 4)
        resumed: list[str] = []
        roots = _Scripted(store, [unsettled, unsettled, settled], resumed)

        roots.on_incident(incident, "opened")
        assert store.get_incident(incident.id).root_confidence is None
        roots.retry()  # still unsettled: nothing vouched for, nothing resumed
        assert store.get_incident(incident.id).root_confidence is None and resumed == []
        roots.retry()  # settled: kept, and the deferred "opened" goes on to the other hooks
        saved = store.get_incident(incident.id)
        assert (saved.root_resource_id, saved.root_confidence) == ("db-1", 0.8)
        assert resumed == [f"{incident.id}:opened"]
        roots.retry()  # nothing pending any more (the script is empty: a rank would fail)
        roots.on_incident(saved, "opened")  # the same evidence: not ranked again
        assert resumed == [f"{incident.id}:opened"]
    finally:
        store.close()


def test_a_vouched_root_that_still_leads_stays_vouched_for_while_members_join(
    tmp_path: Path,
) -> None:
    """New members make each ranking a row old; while it still puts the same root first, the
    root keeps its confidence (approvals need not wait), and the ranking is refreshed once it
    settles. When another root leads, the confidence is withdrawn until that one settles."""
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    try:
        incident = _incident(store, "db-1", [("db-1", 1.0)])
        assert incident.id is not None

        def ranking(root: str, confidence: float, settled: bool) -> Diagnosis:
            h = [{"node": root, "confidence": confidence, "score": 1.0, "evidence": []}]
            return Diagnosis(root, confidence, h, 0.0, f"{root} rose", 2, 4, settled=settled)

        resumed: list[str] = []
        script = [
            ranking("db-1", 0.8, True),  # opened: vouched for
            ranking("db-1", 0.6, False),  # a member joined: db-1 still leads
            ranking("db-1", 0.7, True),  # the next batch: settled, refreshed
            ranking("web-1", 0.6, False),  # another member: web-1 leads, a row old
            ranking("web-1", 0.9, True),  # settled on web-1: the deferred event goes on
        ]
        roots = _Scripted(store, script, resumed)
        roots.on_incident(incident, "opened")
        assert store.get_incident(incident.id).root_confidence == 0.8

        roots._seen.clear()  # (a new member: the evidence changed)
        roots.on_incident(store.get_incident(incident.id), "grouped")
        kept = store.get_incident(incident.id)
        assert (kept.root_resource_id, kept.root_confidence) == ("db-1", 0.8)
        roots.retry()
        assert store.get_incident(incident.id).root_confidence == 0.7 and resumed == []

        roots._seen.clear()  # (a new member: the evidence changed)
        roots.on_incident(store.get_incident(incident.id), "grouped")
        assert store.get_incident(incident.id).root_confidence is None
        roots.retry()
        moved = store.get_incident(incident.id)
        assert (moved.root_resource_id, moved.root_confidence) == ("web-1", 0.9)
        assert resumed == [f"{incident.id}:grouped"]
    finally:
        store.close()
