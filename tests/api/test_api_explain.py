"""GET /anomalies/{id}/explain: root causes of a live anomaly from the recorded metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient

from opsgraph.runtime.root import Runtime


def test_an_outage_is_explained_with_its_root_and_path(
    client: TestClient, runtime: Runtime
) -> None:
    db = next(r.id for r in runtime.estate.resources.values() if r.kind.value == "rds")
    client.post("/sim/faults", json={"kind": "dependency_outage", "node": db})
    for _ in range(6):
        runtime.simulation.step()
    anomalies = client.get("/anomalies", params={"limit": 100}).json()["items"]
    assert anomalies
    caller = next(a for a in anomalies if a["resource_id"] != db)
    r = client.get(f"/anomalies/{caller['id']}/explain")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hypotheses"][0]["node"] == db
    assert body["cascade_path"][0] == db and body["cascade_path"][-1] != db
    assert {"feature_importance", "important_nodes", "important_edges", "summary", "method"} <= set(
        body
    )
    assert abs(sum(body["feature_importance"].values()) - 1.0) < 1e-3
    assert f"likely root cause {db}" in body["summary"]
    for edge in body["important_edges"]:
        assert edge["source"] in body["cascade_path"] and edge["target"] in body["cascade_path"]
    # Cached while the anomaly is unchanged.
    assert client.get(f"/anomalies/{caller['id']}/explain").json() == body


def test_with_a_served_model_importance_comes_from_shap_and_gnnexplainer(
    client: TestClient, served: Runtime
) -> None:
    runtime = served
    app = next(r.id for r in runtime.estate.resources.values() if r.kind.value == "ec2")
    client.post("/sim/faults", json={"kind": "cpu_hog", "node": app})
    for _ in range(6):
        runtime.simulation.step()
    anomalies = client.get("/anomalies", params={"resource_id": app}).json()["items"]
    assert anomalies
    body = client.get(f"/anomalies/{anomalies[0]['id']}/explain").json()
    gnn = body["gnn"]
    assert gnn["node_id"] == app and gnn["model"]["version"] == 1
    assert gnn["method"] in body["method"]
    assert body["feature_importance"] == gnn["feature_importance"]
    assert set(body["feature_importance"]) == {
        "cpu",
        "memory",
        "latency_ms",
        "error_rate",
        "request_count",
    }
    assert abs(sum(body["feature_importance"].values()) - 1.0) < 1e-3
    assert body["deviation_share"] and body["hypotheses"]
    for edge in gnn["important_edges"]:
        assert edge["importance"] >= 0.5


def test_explain_an_unknown_anomaly_is_404(client: TestClient) -> None:
    r = client.get("/anomalies/999999/explain")
    assert r.status_code == 404 and "999999" in r.text


def _progress(client: TestClient, anomaly_id: int) -> list[dict[str, object]]:
    import json

    with client.stream("GET", f"/anomalies/{anomaly_id}/explain/progress") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/x-ndjson")
        return [json.loads(line) for line in r.iter_lines() if line]


def test_progress_streams_each_stage_then_the_same_result(
    client: TestClient, served: Runtime
) -> None:
    runtime = served
    app = next(r.id for r in runtime.estate.resources.values() if r.kind.value == "ec2")
    client.post("/sim/faults", json={"kind": "cpu_hog", "node": app})
    for _ in range(6):
        runtime.simulation.step()
    anomaly = client.get("/anomalies", params={"resource_id": app}).json()["items"][0]
    lines = _progress(client, anomaly["id"])
    stages = [line["stage"] for line in lines]
    # With a graph model served, its attribution is a stage of its own.
    assert stages == ["reading", "ranking", "attributing", "done"]
    elapsed = [float(line["elapsed_s"]) for line in lines]  # type: ignore[arg-type]
    assert elapsed == sorted(elapsed)
    assert "resources around the anomaly" in str(lines[0]["detail"])
    assert lines[-1]["result"] == client.get(f"/anomalies/{anomaly['id']}/explain").json()
    # Cached now: the result comes at once, with no stage to wait for.
    assert [line["stage"] for line in _progress(client, anomaly["id"])] == ["done"]


def test_progress_of_an_unknown_anomaly_is_404_before_any_line(client: TestClient) -> None:
    r = client.get("/anomalies/999999/explain/progress")
    assert r.status_code == 404 and "999999" in r.text
