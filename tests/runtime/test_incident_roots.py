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
        store.upsert_topology([Resource(id="web-1"), Resource(id="db-1")], [])
        incident = store.add_incident(
            Incident(
                title="web-1: latency_ms",
                severity=Severity.HIGH,
                opened_ts=1.0,
                root_resource_id="web-1",
                resource_ids=["web-1", "db-1"],
            )
        )
        assert incident.id is not None
        empty = np.zeros(0)
        members = store.write_batch(
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
                for r, t in (("web-1", 1.0), ("db-1", 2.0))
            ],
        )
        store.link_anomalies([a.id for a in members if a.id is not None], incident.id)
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
