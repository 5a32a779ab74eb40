"""The ranked root replaces the first guess on the incident: its root, confidence, hypotheses,
title and timeline; a ranking that cannot be made leaves the guess and says why."""

from __future__ import annotations

from pathlib import Path

from opsgraph.core.models import Incident, Resource, Severity
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
