"""The WebSocket greets, then pushes metrics:update, graph:update and anomaly:new."""

from __future__ import annotations

from fastapi.testclient import TestClient

from opsgraph.runtime.root import Runtime


def test_live_messages(client: TestClient, runtime: Runtime) -> None:
    db = next(r.id for r in runtime.estate.resources.values() if r.kind.value == "rds")
    with client.websocket_connect("/ws") as ws:
        assert ws.receive_json()["type"] == "hello"
        client.post("/sim/faults", json={"kind": "dependency_outage", "node": db})
        for _ in range(3):
            runtime.simulation.step()
        seen: dict[str, object] = {}
        while not {"metrics:update", "anomaly:new", "graph:update"} <= set(seen):
            message = ws.receive_json()
            seen.setdefault(message["type"], message["data"])
    metrics = seen["metrics:update"]
    assert isinstance(metrics, dict) and db in metrics["nodes"]
    assert {"cpu", "latency_ms", "score"} <= set(metrics["nodes"][db])
    anomaly = seen["anomaly:new"]
    assert isinstance(anomaly, dict) and anomaly["id"] is not None
    assert "fault:new" in seen
