"""Feedback and maintenance windows change what alerts, survive restarts, and refuse bad input."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from opsgraph.api import create_app
from opsgraph.core.auth import Role
from opsgraph.runtime.root import Runtime


def _outage(client: TestClient, runtime: Runtime, steps: int = 4) -> dict[str, object]:
    db = next(r.id for r in runtime.estate.resources.values() if r.kind.value == "rds")
    fault = client.post("/sim/faults", json={"kind": "dependency_outage", "node": db}).json()
    for _ in range(steps):
        runtime.simulation.step()
    return fault


def test_false_positive_raises_the_series_threshold(client: TestClient, runtime: Runtime) -> None:
    _outage(client, runtime)
    anomaly = client.get("/anomalies", params={"limit": 1}).json()["items"][0]
    r = client.post(
        f"/anomalies/{anomaly['id']}/feedback",
        json={"verdict": "false_positive", "note": "planned failover drill", "actor": "ana"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["series_threshold"] >= min(anomaly["max_score"] + 0.05, 0.999) - 1e-9
    listed = client.get("/feedback", params={"anomaly_id": anomaly["id"]}).json()
    assert listed["total"] == 1 and listed["items"][0]["note"] == "planned failover drill"
    audit, total = runtime.store.list_audit(action="detect.feedback")
    assert total == 1 and audit[0].actor == "ana"
    r = client.post(f"/anomalies/{anomaly['id']}/feedback", json={"verdict": "confirmed"})
    assert r.json()["series_threshold"] == runtime.settings.detect.alert_threshold


def test_feedback_survives_a_restart(client: TestClient, runtime: Runtime) -> None:
    _outage(client, runtime)
    anomaly = client.get("/anomalies", params={"limit": 1}).json()["items"][0]
    client.post(f"/anomalies/{anomaly['id']}/feedback", json={"verdict": "false_positive"})
    same_db = runtime.settings.model_copy(
        update={"store": runtime.settings.store.model_copy(update={"url": runtime.store.url})}
    )
    again = Runtime(same_db)  # a restart on the same database
    key = (anomaly["resource_id"], anomaly["metric"])
    series = int(again.ingestor.series_index([key])[0])
    assert again.ingestor.tracker.threshold_of(series) > runtime.settings.detect.alert_threshold
    again.close()


def test_maintenance_mutes_its_resources(client: TestClient, runtime: Runtime) -> None:
    db = next(r.id for r in runtime.estate.resources.values() if r.kind.value == "rds")
    fault_nodes = (
        set(runtime.simulation.cloud.graph.upstream(db)) | {db}
        if runtime.simulation.cloud
        else set()
    )
    r = client.post(
        "/maintenance",
        json={"resource_ids": sorted(fault_nodes), "duration_s": 3600, "reason": "db upgrade"},
    )
    assert r.status_code == 201, r.text
    window = r.json()
    assert window["end_ts"] - window["start_ts"] == 3600
    assert [w["id"] for w in client.get("/maintenance", params={"active": True}).json()] == [
        window["id"]
    ]
    before = {a["id"] for a in client.get("/anomalies", params={"limit": 1000}).json()["items"]}
    _outage(client, runtime)
    after = client.get("/anomalies", params={"limit": 1000}).json()["items"]
    new = [a for a in after if a["id"] not in before]
    assert all(a["resource_id"] not in fault_nodes for a in new)
    assert client.delete(f"/maintenance/{window['id']}").status_code == 204
    assert client.get("/maintenance").json() == []
    assert client.delete(f"/maintenance/{window['id']}").status_code == 404


def test_bad_control_requests(client: TestClient, runtime: Runtime) -> None:
    node = sorted(runtime.estate.resources)[0]
    cases = [
        ("post", "/anomalies/999999/feedback", {"verdict": "confirmed"}, 404, "anomaly"),
        ("post", "/anomalies/1/feedback", {"verdict": "meh"}, 422, "verdict"),
        ("post", "/maintenance", {"resource_ids": ["ghost"], "duration_s": 60}, 422, "ghost"),
        ("post", "/maintenance", {"resource_ids": [node]}, 422, "exactly one"),
        ("post", "/maintenance", {"resource_ids": [], "duration_s": 60}, 422, "resource_ids"),
        (
            "post",
            "/maintenance",
            {"resource_ids": [node], "start_ts": 10, "end_ts": 5},
            422,
            "end_ts",
        ),
        ("post", "/maintenance", {"resource_ids": [node], "duration_s": -1}, 422, "duration_s"),
    ]
    for method, url, body, code, word in cases:
        r = getattr(client, method)(url, json=body)
        assert r.status_code == code, (url, body, r.text)
        assert word in r.text
    assert runtime.store.counts()["maintenance_windows"] == 0


def test_app_without_pipeline_serves_control(
    runtime: Runtime, make_key: Callable[[Role], str]
) -> None:
    with TestClient(create_app(runtime, run_pipeline=False)) as c:
        assert c.get("/maintenance").status_code == 401  # no credential
        c.headers["Authorization"] = f"Bearer {make_key(Role.VIEWER)}"
        assert c.get("/maintenance").status_code == 200


def test_calendar_lists_the_estates_events(client: TestClient, runtime: Runtime) -> None:
    events = client.get("/calendar", params={"limit": 1000}).json()
    assert events and all(e["end_ts"] > e["start_ts"] for e in events)
    assert [e["start_ts"] for e in events] == sorted(e["start_ts"] for e in events)
    now = runtime.now()
    upcoming = client.get("/calendar", params={"upcoming": True, "limit": 1000}).json()
    assert upcoming and all(e["end_ts"] > now for e in upcoming)
    active = client.get("/calendar", params={"active": True}).json()
    assert all(e["start_ts"] <= now < e["end_ts"] for e in active)
    assert client.get("/calendar", params={"limit": 0}).status_code == 422
