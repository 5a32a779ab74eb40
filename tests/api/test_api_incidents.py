"""The alert lifecycle through the API: incidents from a cascade, timeline reasons, stats,
dedup, silences, resolve / acknowledge / reopen, outside alerts."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from opsgraph.core.models import ExternalAlert, Severity
from opsgraph.runtime.root import Runtime


def _cascade(client: TestClient, runtime: Runtime) -> None:
    db = next(r.id for r in runtime.estate.resources.values() if r.kind.value == "rds")
    client.post("/sim/faults", json={"kind": "dependency_outage", "node": db})
    for _ in range(8):
        runtime.simulation.step()


def test_a_cascade_opens_one_incident_with_reasons(client: TestClient, runtime: Runtime) -> None:
    _cascade(client, runtime)
    incidents = client.get("/incidents").json()
    assert incidents["total"] >= 1
    incident = client.get(f"/incidents/{incidents['items'][0]['id']}").json()
    assert len(incident["anomalies"]) >= 2
    # each member says how it looks from the root; causes come first
    roles = [a["role"] for a in incident["anomalies"]]
    assert set(roles) <= {"cause", "symptom", "unexplained"} and roles[0] == "cause"
    assert all(a["role_reason"] for a in incident["anomalies"])
    assert incident["root_resource_id"] == incident["anomalies"][0]["resource_id"]
    assert incident["timeline"][0]["kind"] == "opened"
    assert "related anomalies" in incident["timeline"][0]["message"]
    stats = client.get("/anomalies/stats").json()
    assert stats["total"] == client.get("/anomalies").json()["total"]
    assert sum(stats["by_severity"].values()) == stats["total"]


def test_acknowledge_resolve_reopen(client: TestClient, runtime: Runtime) -> None:
    _cascade(client, runtime)
    incident_id = client.get("/incidents").json()["items"][0]["id"]
    ack = client.patch(
        f"/incidents/{incident_id}", json={"status": "acknowledged", "note": "on it"}
    )
    assert ack.status_code == 200 and ack.json()["acknowledged_by"].startswith("key:")
    again = client.patch(f"/incidents/{incident_id}", json={"status": "acknowledged"})
    assert again.status_code == 422
    client.patch(f"/incidents/{incident_id}", json={"status": "resolved"})
    reopened = client.patch(f"/incidents/{incident_id}", json={"status": "open"}).json()
    assert reopened["status"] == "open" and reopened["resolved_ts"] is None
    kinds = [e["kind"] for e in client.get(f"/incidents/{incident_id}/timeline").json()]
    assert kinds[-3:] == ["acknowledged", "resolved", "reopened"]
    anomaly = client.get("/anomalies", params={"status": "open"}).json()["items"][0]
    resolved = client.patch(f"/anomalies/{anomaly['id']}/resolve", json={"note": "fixed"})
    assert resolved.json()["status"] == "resolved" and resolved.json()["end_ts"] is not None
    assert client.patch(f"/anomalies/{anomaly['id']}/resolve").status_code == 422
    assert client.patch("/anomalies/999999/resolve").status_code == 404
    audit = runtime.store.list_audit(action="anomaly.resolved")[0]
    assert audit[0].reason == "fixed"


def test_silence_mutes_and_says_why(client: TestClient, runtime: Runtime) -> None:
    before = client.get("/anomalies").json()
    last_id = max((a["id"] for a in before["items"]), default=0)
    incidents = client.get("/incidents").json()["total"]
    silence = client.post(
        "/silences",
        json={
            "matchers": [{"label": "resource", "value": ".*", "regex": True}],
            "duration_s": 3600,
            "comment": "load test",
        },
    )
    assert silence.status_code == 201
    _cascade(client, runtime)
    anomalies = [a for a in client.get("/anomalies").json()["items"] if a["id"] > last_id]
    assert anomalies and all(a["silence_id"] == silence.json()["id"] for a in anomalies)
    assert "load test" in anomalies[0]["reason"]
    assert client.get("/incidents").json()["total"] == incidents
    bad = client.post(
        "/silences",
        json={"matchers": [{"label": "x", "value": "(", "regex": True}], "duration_s": 5},
    )
    assert bad.status_code == 422 and "regular expression" in bad.text


def test_outside_alerts_open_and_close_by_fingerprint(runtime: Runtime) -> None:
    now = time.time()
    alert = ExternalAlert(
        source="alertmanager",
        fingerprint="abc",
        name="HighLatency",
        resource_id="edge-1",
        metric="HighLatency",
        firing=True,
        severity=Severity.HIGH,
        starts_at=now,
    )
    (opened,) = runtime.intake.receive_alerts([alert])
    assert opened.id is not None and "edge-1" in runtime.estate.resources
    (again,) = runtime.intake.receive_alerts([alert])
    assert again.id == opened.id  # same fingerprint, same anomaly
    (closed,) = runtime.intake.receive_alerts([alert.model_copy(update={"firing": False})])
    assert closed.id == opened.id and closed.status.value == "resolved"


def test_fingerprint_fields_deduplicate(client: TestClient, runtime: Runtime) -> None:
    runtime.settings.alerts.fingerprint_fields = ["resource"]  # one alert per resource
    last_id = max((a["id"] for a in client.get("/anomalies").json()["items"]), default=0)
    _cascade(client, runtime)
    new = [
        a
        for a in client.get("/anomalies", params={"limit": 500}).json()["items"]
        if a["id"] > last_id
    ]
    dupes = [a for a in new if a["duplicate_of"] is not None]
    assert dupes, "a resource with two abnormal signals gives one alert and a duplicate"
    first = client.get(f"/anomalies/{dupes[0]['duplicate_of']}").json()
    assert first["resource_id"] == dupes[0]["resource_id"]
    assert first["fingerprint"] == dupes[0]["fingerprint"]
    assert dupes[0]["reason"].startswith(f"duplicate of anomaly #{first['id']}: same resource")
    assert dupes[0]["incident_id"] is None  # duplicates are not grouped


def test_a_silence_regex_re2_cannot_take_is_refused(client: TestClient) -> None:
    for pattern in ("(?<=db)-1", r"(db)\1"):
        matcher = {"label": "resource", "value": pattern, "regex": True}
        r = client.post("/silences", json={"matchers": [matcher], "duration_s": 60})
        assert r.status_code == 422 and "RE2" in r.text, r.text
    evil = {"label": "owner", "value": "(a+)+b", "regex": True}
    r = client.post("/silences", json={"matchers": [evil], "duration_s": 60})
    assert r.status_code == 201
