"""GET /anomalies/{id}/explain: root causes of a live anomaly from the recorded metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient

from opsgraph.runtime import Runtime


def test_an_outage_is_explained_with_its_root_and_path(
    client: TestClient, runtime: Runtime
) -> None:
    db = next(r.id for r in runtime.resources.values() if r.kind.value == "rds")
    client.post("/sim/faults", json={"kind": "dependency_outage", "node": db})
    for _ in range(6):
        runtime.step()
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


def test_explain_an_unknown_anomaly_is_404(client: TestClient) -> None:
    r = client.get("/anomalies/999999/explain")
    assert r.status_code == 404 and "999999" in r.text
