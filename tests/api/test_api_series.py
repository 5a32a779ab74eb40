"""Series catalogues and search (GET /resources/{id}/series, GET /series), and any stored
series read back with its band: a Prometheus-fed resource, not only the simulator's signals."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from opsgraph.runtime.root import Runtime

#: Two hours ago: the door refuses samples far from now (`ingest/doors.py`).
T0 = float(int(time.time()) - 2 * 3600)
NODE = "prom-node-7"
POINTS = 40


def _push(client: TestClient, resource: str, metric: str, values: list[float]) -> None:
    samples = [
        {"resource_id": resource, "metric": metric, "ts": T0 + 60 * i, "value": v}
        for i, v in enumerate(values)
    ]
    response = client.post("/ingest/samples", json={"samples": samples})
    assert response.status_code == 200, response.text


@pytest.fixture
def prom(client: TestClient) -> TestClient:
    """A resource fed like Prometheus feeds one: runtime metrics of a Go process."""
    node = {"id": NODE, "name": "api server", "tags": {"job": "node", "instance": "10.0.0.7"}}
    assert client.post("/resources", json={"resources": [node]}).status_code == 200
    _push(client, NODE, "go_goroutines", [40.0 + (i % 5) for i in range(POINTS)])
    _push(client, NODE, "go_threads", [12.0 + (i % 3) for i in range(POINTS)])
    return client


def test_a_resources_catalogue_lists_its_own_series(prom: TestClient) -> None:
    body = prom.get(f"/resources/{NODE}/series").json()
    assert body["resource_id"] == NODE and body["kind"] == "generic"
    assert body["series"] == [
        {"metric": m, "points": POINTS, "first_ts": T0, "last_ts": T0 + 60 * (POINTS - 1)}
        for m in ("go_goroutines", "go_threads")
    ]


def test_a_simulated_resource_has_its_signals(client: TestClient, runtime: Runtime) -> None:
    db = next(r.id for r in runtime.estate.resources.values() if r.kind.value == "rds")
    series = client.get(f"/resources/{db}/series").json()["series"]
    names = [s["metric"] for s in series]
    assert names == sorted(names)
    assert {"cpu", "memory", "latency_ms", "error_rate", "request_count"} <= set(names)
    cpu = next(s for s in series if s["metric"] == "cpu")
    assert cpu["points"] == 40 and cpu["first_ts"] < cpu["last_ts"]


def test_an_unknown_resource_has_no_catalogue(client: TestClient) -> None:
    response = client.get("/resources/no-such-node/series")
    assert response.status_code == 404
    assert "no-such-node" in response.text


def _search(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/series", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    "q",
    ["GOROUTINES", "go_gor", "prom-node", "API SERVER", "instance=10.0", "JOB=node", "generic"],
)
def test_search_matches_metric_resource_name_kind_or_tag(prom: TestClient, q: str) -> None:
    body = _search(prom, q=q)
    found = {(i["resource_id"], i["metric"]) for i in body["items"]}
    assert (NODE, "go_goroutines") in found, body
    item = next(i for i in body["items"] if i["metric"] == "go_goroutines")
    assert item == {
        "resource_id": NODE,
        "kind": "generic",
        "name": "api server",
        "metric": "go_goroutines",
        "points": POINTS,
        "first_ts": T0,
        "last_ts": T0 + 60 * (POINTS - 1),
    }


def test_search_is_ordered_bounded_and_says_when_more_match(
    prom: TestClient, runtime: Runtime
) -> None:
    everything = _search(prom, q="cpu", limit=200)
    keys = [(i["resource_id"], i["metric"]) for i in everything["items"]]
    assert len(keys) == 30 and keys == sorted(keys) and not everything["more"]
    first = _search(prom, q="cpu", limit=5)
    assert first["more"] and [(i["resource_id"], i["metric"]) for i in first["items"]] == keys[:5]
    # The metric search and the resource search merge in one order: a kind matches its series.
    ec2 = sorted(r.id for r in runtime.estate.resources.values() if r.kind.value == "ec2")
    by_kind = _search(prom, q="ec2", limit=200)["items"]
    assert {i["resource_id"] for i in by_kind} >= set(ec2)
    # LIKE's wildcards are plain characters here.
    assert _search(prom, q="%")["items"] == []
    assert [i["metric"] for i in _search(prom, q="go_")["items"]] == ["go_goroutines", "go_threads"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "cpu", "limit": 0}, "limit"),
        ({"q": "cpu", "limit": 201}, "limit"),
        ({"q": "cpu", "limit": "many"}, "limit"),
    ],
)
def test_bad_search_input_is_a_422_naming_the_field(
    client: TestClient, params: dict[str, Any], field: str
) -> None:
    response = client.get("/series", params=params)
    assert response.status_code == 422, response.text
    assert field in response.text


def test_any_series_reads_back_with_its_band_over_a_free_range(prom: TestClient) -> None:
    start, end = T0 + 60 * 10, T0 + 60 * 30
    response = prom.get(
        f"/resources/{NODE}/metrics",
        params={
            "metrics": ["go_goroutines", "go_threads"],
            "start": start,
            "end": end,
            "band": True,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["series"]) == {"go_goroutines", "go_threads"}
    entry = body["series"]["go_goroutines"]
    assert entry["ts"] == [T0 + 60 * i for i in range(10, 31)]
    # Warm from the points before the range: a band at every point shown.
    assert None not in entry["upper"] and None not in entry["lower"]
    bounds = zip(entry["lower"], entry["values"], entry["upper"], strict=True)
    assert all(lo <= v <= hi for lo, v, hi in bounds)
    band = body["band"]
    assert band["detector"] == "robust_z" and band["pipeline_detector"] == "robust_z"
    assert {"k", "window", "min_points", "rel_floor"} <= set(band)
