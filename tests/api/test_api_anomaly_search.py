"""GET /anomalies?q= (substring of resource id or metric, with the other filters and paging)
and the per-status severity counts of GET /anomalies/stats that the Alerts page shows."""

from __future__ import annotations

from fastapi.testclient import TestClient

from opsgraph.runtime.root import Runtime


def _outage(client: TestClient, runtime: Runtime) -> None:
    db = next(r.id for r in runtime.estate.resources.values() if r.kind.value == "rds")
    client.post("/sim/faults", json={"kind": "dependency_outage", "node": db})
    for _ in range(8):
        runtime.simulation.step()


def test_q_finds_by_resource_or_metric(client: TestClient, runtime: Runtime) -> None:
    _outage(client, runtime)
    everything = client.get("/anomalies", params={"limit": 500}).json()
    assert everything["total"] >= 2
    target = everything["items"][-1]["resource_id"]
    needle = target[1:].upper()
    page = client.get("/anomalies", params={"q": needle, "limit": 500}).json()
    want = [a["id"] for a in everything["items"] if needle.lower() in a["resource_id"].lower()]
    want += [
        a["id"]
        for a in everything["items"]
        if needle.lower() in a["metric"].lower() and a["id"] not in want
    ]
    assert sorted(a["id"] for a in page["items"]) == sorted(want)
    assert page["total"] == len(want)
    metric = client.get("/anomalies", params={"q": "LATENCY", "limit": 1}).json()
    assert metric["total"] == sum(a["metric"] == "latency_ms" for a in everything["items"])
    assert len(metric["items"]) == 1
    assert client.get("/anomalies", params={"q": "no-such-thing"}).json()["total"] == 0


def test_q_is_checked(client: TestClient) -> None:
    for bad in ("   ", "x" * 201):
        response = client.get("/anomalies", params={"q": bad})
        assert response.status_code == 422, response.text
        assert "q" in response.text


def test_stats_by_status_and_severity(client: TestClient, runtime: Runtime) -> None:
    _outage(client, runtime)
    stats = client.get("/anomalies/stats").json()
    grid = stats["by_status_severity"]
    assert set(grid) == {"open", "acknowledged", "resolved"}
    for status, counts in grid.items():
        assert set(counts) == {"low", "medium", "high", "critical"}
        assert sum(counts.values()) == stats["by_status"][status]
        listed = client.get("/anomalies", params={"status": status, "limit": 1}).json()
        assert listed["total"] == stats["by_status"][status]
    assert grid["open"] == stats["open_by_severity"]
