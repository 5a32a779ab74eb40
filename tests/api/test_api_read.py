"""Read endpoints: health, graph, anomalies, events, resources and their metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient

from opsgraph.runtime.root import Runtime


def _db_node(runtime: Runtime) -> str:
    return next(r.id for r in runtime.estate.resources.values() if r.kind.value == "rds")


def test_health(client: TestClient, runtime: Runtime) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["store"] == "sqlite"
    assert body["resources"] == len(runtime.estate.resources) == 30


def test_graph_has_nodes_edges_and_latest_metrics(client: TestClient) -> None:
    body = client.get("/graph").json()
    assert len(body["nodes"]) == 30 and body["edges"]
    node = body["nodes"][0]
    assert set(node["metrics"]) >= {"cpu", "memory", "latency_ms", "error_rate", "request_count"}
    assert 0.0 <= node["score"] <= 1.0


def test_injected_fault_shows_up_as_anomalies_on_its_nodes(
    client: TestClient, runtime: Runtime
) -> None:
    db = _db_node(runtime)
    r = client.post("/sim/faults", json={"kind": "dependency_outage", "node": db})
    assert r.status_code == 201, r.text
    fault = r.json()
    assert fault["root"] == db and db in fault["affected"]
    for _ in range(4):
        runtime.simulation.step()
    page = client.get("/anomalies", params={"limit": 200}).json()
    hit = [a for a in page["items"] if a["resource_id"] in fault["affected"]]
    assert hit, page
    assert page["total"] >= len(hit)
    one = client.get(f"/anomalies/{hit[0]['id']}").json()
    assert one["resource_id"] == hit[0]["resource_id"]
    graph = {n["id"]: n for n in client.get("/graph").json()["nodes"]}
    assert any(graph[n]["anomalous"] for n in fault["affected"])
    events = client.get("/events", params={"kind": "fault.injected"}).json()
    assert events["total"] == 1 and events["items"][0]["resource_id"] == db
    assert client.get("/sim/faults").json()[0]["id"] == fault["id"]


def test_anomaly_filters_and_pagination(client: TestClient, runtime: Runtime) -> None:
    client.post("/sim/faults", json={"kind": "dependency_outage", "node": _db_node(runtime)})
    for _ in range(4):
        runtime.simulation.step()
    everything = client.get("/anomalies", params={"limit": 1000}).json()
    assert everything["total"] >= 2
    first = client.get("/anomalies", params={"limit": 1}).json()
    second = client.get("/anomalies", params={"limit": 1, "offset": 1}).json()
    assert first["items"][0]["id"] != second["items"][0]["id"]
    crit = client.get("/anomalies", params=[("severity", "critical"), ("limit", 1000)]).json()
    assert all(a["severity"] == "critical" for a in crit["items"])
    node = everything["items"][0]["resource_id"]
    mine = client.get("/anomalies", params={"resource_id": node, "limit": 1000}).json()
    assert mine["items"] and all(a["resource_id"] == node for a in mine["items"])
    future = client.get("/anomalies", params={"start": 4e9}).json()
    assert future["total"] == 0


def test_metrics_of_a_resource(client: TestClient, runtime: Runtime) -> None:
    db = _db_node(runtime)
    body = client.get(f"/resources/{db}/metrics", params=[("metrics", "cpu")]).json()
    assert list(body["series"]) == ["cpu"]
    ts = body["series"]["cpu"]["ts"]
    assert len(ts) == 40 and ts == sorted(ts)
    mid = ts[20]
    part = client.get(f"/resources/{db}/metrics", params={"start": mid}).json()
    assert min(part["series"]["cpu"]["ts"]) >= mid
    assert client.get(f"/resources/{db}").json()["kind"] == "rds"
    assert len(client.get("/resources").json()) == 30


def test_openapi_docs(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/health", "/graph", "/anomalies", "/ingest/samples", "/sim/faults"} <= set(paths)


def test_dashboard_is_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()


def test_an_unknown_page_is_a_not_found_page_for_browsers_and_json_for_the_rest(
    anonymous: TestClient,
) -> None:
    page = anonymous.get("/no-such-page.html", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text and 'href="/incidents.html"' in page.text
    nested = anonymous.get("/a/b/c", headers={"Accept": "text/html"})
    assert nested.status_code == 404 and "Page not found" in nested.text
    script = anonymous.get("/no-such-page.html")
    assert script.status_code == 404 and script.json() == {"detail": "Not Found"}
