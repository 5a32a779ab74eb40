"""Bad input gets a 4xx naming the problem and changes nothing; good pushes are stored."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from opsgraph.runtime.root import Runtime

#: An hour ago: the door refuses samples far from now (`ingest/doors.py`).
T0 = float(int(time.time()) - 3600)


def _sample(resource: str, value: float = 1.0, metric: str = "cpu") -> dict[str, object]:
    return {"resource_id": resource, "metric": metric, "ts": T0, "value": value}


def _any_node(runtime: Runtime) -> str:
    return sorted(runtime.estate.resources)[0]


def test_push_stores_and_scores(client: TestClient, runtime: Runtime) -> None:
    node = _any_node(runtime)
    before = runtime.store.counts()["samples"]
    batch = [_sample(node, 1.0, "queue_depth"), _sample(node, 2.0, "queue_depth") | {"ts": T0 + 60}]
    r = client.post("/ingest/samples", json={"samples": batch})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2
    assert runtime.store.counts()["samples"] == before + 2
    series = client.get(f"/resources/{node}/metrics", params={"metrics": "queue_depth"}).json()
    assert series["series"]["queue_depth"]["values"] == [1.0, 2.0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"samples": [{"resource_id": "R", "metric": "cpu", "ts": 1, "value": "high"}]}, "value"),
        ({"samples": [{"resource_id": "R", "metric": "cpu", "ts": "x", "value": 1}]}, "ts"),
        ({"samples": [{"resource_id": "R", "metric": "cpu", "value": 1}]}, "ts"),
        ({"samples": [{"resource_id": "R", "metric": "9bad", "ts": 1, "value": 1}]}, "metric"),
        ({"samples": [{"resource_id": "R", "metric": "cpu", "ts": 1, "value": 1, "x": 0}]}, "x"),
        ({"samples": []}, "samples"),
        ({"rows": []}, "samples"),
        ([1, 2], "body"),
    ],
)
def test_bad_batches_name_the_field(
    client: TestClient, runtime: Runtime, body: object, field: str
) -> None:
    node = _any_node(runtime)
    text = json.dumps(body).replace('"R"', json.dumps(node))
    good = json.dumps(_sample(node))
    if isinstance(body, dict) and body.get("samples"):
        text = text.replace('"samples": [', f'"samples": [{good}, ', 1)
    before = runtime.store.counts()["samples"]
    r = client.post("/ingest/samples", content=text, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert field in r.json()["detail"]
    assert runtime.store.counts()["samples"] == before


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_values_are_refused(client: TestClient, runtime: Runtime, literal: str) -> None:
    node = _any_node(runtime)
    text = (
        f'{{"samples": [{json.dumps(_sample(node))}, '
        f'{{"resource_id": "{node}", "metric": "cpu", "ts": 1, "value": {literal}}}]}}'
    )
    before = runtime.store.counts()["samples"]
    r = client.post("/ingest/samples", content=text, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert "samples[1].value" in r.json()["detail"] and "finite" in r.json()["detail"]
    assert runtime.store.counts()["samples"] == before


def test_unknown_resource_refuses_the_whole_batch(client: TestClient, runtime: Runtime) -> None:
    before = runtime.store.counts()
    batch = [_sample(_any_node(runtime)), _sample("no-such-node")]
    r = client.post("/ingest/samples", json={"samples": batch})
    assert r.status_code == 422
    assert "samples[1].resource_id" in r.json()["detail"] and "no-such-node" in r.json()["detail"]
    assert runtime.store.counts() == before


def test_malformed_json_and_huge_bodies(client: TestClient, runtime: Runtime) -> None:
    r = client.post(
        "/ingest/samples", content=b'{"samples": [', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and "JSON" in r.json()["detail"]
    limit = runtime.settings.api.max_body_bytes
    r = client.post(
        "/ingest/samples", content=b" " * (limit + 1), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and str(limit) in r.json()["detail"]


def test_bad_queries(client: TestClient) -> None:
    for params, field in [
        ({"severity": "apocalyptic"}, "severity"),
        ({"limit": 0}, "limit"),
        ({"limit": 100000}, "limit"),
        ({"offset": -1}, "offset"),
        ({"start": "nan"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"status": "sleeping"}, "status"),
    ]:
        r = client.get("/anomalies", params=params)
        assert r.status_code == 422, (params, r.text)
        assert field in r.json()["detail"]
    assert client.get("/anomalies/999999").status_code == 404
    assert client.get("/anomalies/abc").status_code == 422
    assert client.get("/resources/ghost/metrics").status_code == 404


def test_time_range_must_be_ordered(client: TestClient, runtime: Runtime) -> None:
    r = client.get(f"/resources/{_any_node(runtime)}/metrics", params={"start": 10, "end": 5})
    assert r.status_code == 422 and "start" in r.json()["detail"]


def test_fault_and_action_requests_are_validated(client: TestClient, runtime: Runtime) -> None:
    before = runtime.store.counts()
    cases = [
        ({"kind": "meteor", "node": _any_node(runtime)}, "kind"),
        ({"kind": "cpu_hog", "node": "ghost"}, "node"),
        ({"kind": "cpu_hog"}, "node"),
        ({"kind": "cpu_hog", "node": _any_node(runtime), "duration_s": -5}, "duration_s"),
    ]
    for body, field in cases:
        r = client.post("/sim/faults", json=body)
        assert r.status_code == 422, r.text
        assert field in r.json()["detail"]
    r = client.post("/sim/actions", json={"action": "teleport", "node": _any_node(runtime)})
    assert r.status_code == 422 and "action" in r.json()["detail"]
    assert runtime.store.counts() == before


def test_register_topology_then_push(client: TestClient, runtime: Runtime) -> None:
    r = client.post(
        "/resources",
        json={
            "resources": [{"id": "ext-api", "kind": "generic", "region": "eu-west-1"}],
            "dependencies": [{"source": "ext-api", "target": _any_node(runtime)}],
        },
    )
    assert r.status_code == 200, r.text
    r = client.post("/ingest/samples", json={"samples": [_sample("ext-api")]})
    assert r.status_code == 200
    r = client.post(
        "/resources", json={"dependencies": [{"source": "ext-api", "target": "nowhere"}]}
    )
    assert r.status_code == 422 and "dependencies[0].target" in r.json()["detail"]
    r = client.post("/resources", json={"resources": [{"id": "bad id", "kind": "generic"}]})
    assert r.status_code == 422 and "resources[0].id" in r.json()["detail"]


def test_actions_reach_the_simulator_and_the_audit(client: TestClient, runtime: Runtime) -> None:
    asg = next(r.id for r in runtime.estate.resources.values() if r.kind.value == "asg")
    r = client.post(
        "/sim/actions", json={"action": "scale_out", "node": asg, "params": {"count": 2}}
    )
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True
    audit, total = runtime.store.list_audit(action="sim.scale_out")
    assert total == 1 and audit[0].target == asg
