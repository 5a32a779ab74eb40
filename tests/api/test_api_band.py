"""GET /resources/{id}/metrics?band=true: the robust_z detector's expected value and band."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from opsgraph.detect.band import rolling_band, threshold_z
from opsgraph.runtime.root import Runtime


def _db_node(runtime: Runtime) -> str:
    return next(r.id for r in runtime.estate.resources.values() if r.kind.value == "rds")


def _metrics(client: TestClient, node: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/resources/{node}/metrics", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_band_follows_the_detector_settings(client: TestClient, runtime: Runtime) -> None:
    db = _db_node(runtime)
    body = _metrics(client, db, band="true")
    k = threshold_z(0.35, 3.0, 4.0)
    assert body["band"] == {
        "k": k,
        "detector": "robust_z",
        "window": 30,
        "min_points": 10,
        "rel_floor": 1e-3,
        "pipeline_detector": "robust_z",
    }
    series = body["series"]
    assert set(series) >= {"cpu", "memory", "latency_ms", "error_rate", "request_count"}
    for entry in series.values():
        n = len(entry["ts"])
        assert n == 40
        assert all(len(entry[name]) == n for name in ("expected", "lower", "upper"))
        # The detector warms up on min_points points: no band before.
        assert entry["expected"][:10] == [None] * 10
        want = rolling_band(np.array(entry["values"]), window=30, min_points=10, k=k)
        got = np.array(entry["upper"][10:], dtype=float)
        np.testing.assert_allclose(got, want.upper[10:], rtol=1e-12)
        lower, expected = np.array(entry["lower"][10:]), np.array(entry["expected"][10:])
        assert (lower <= expected).all() and (expected <= got).all()


def test_a_later_range_starts_warm_from_the_points_before_it(
    client: TestClient, runtime: Runtime
) -> None:
    db = _db_node(runtime)
    full = _metrics(client, db, band="true", metrics="cpu")["series"]["cpu"]
    mid = full["ts"][25]
    part = _metrics(client, db, band="true", metrics="cpu", start=mid)["series"]["cpu"]
    assert part["ts"] == full["ts"][25:]
    assert part["expected"] == full["expected"][25:]
    assert part["upper"] == full["upper"][25:]
    assert None not in part["expected"]


def test_points_where_anomalies_open_lie_outside_the_band(
    client: TestClient, runtime: Runtime
) -> None:
    db = _db_node(runtime)
    assert client.post("/sim/faults", json={"kind": "dependency_outage", "node": db}).status_code
    for _ in range(6):
        runtime.simulation.step()
    anomalies = client.get("/anomalies", params={"limit": 1000}).json()["items"]
    checked = 0
    for anomaly in anomalies:
        if anomaly["detector"] != "robust_z":
            continue
        entry = _metrics(client, anomaly["resource_id"], band="true", metrics=anomaly["metric"])[
            "series"
        ][anomaly["metric"]]
        i = entry["ts"].index(anomaly["start_ts"])
        value = entry["values"][i]
        assert value > entry["upper"][i] or value < entry["lower"][i], anomaly
        last = entry["ts"].index(anomaly["last_ts"])
        assert math.isclose(entry["expected"][last], anomaly["expected"], rel_tol=1e-9)
        checked += 1
    assert checked >= 1


def test_k_sets_the_width_and_bad_k_is_refused(client: TestClient, runtime: Runtime) -> None:
    db = _db_node(runtime)
    entry = _metrics(client, db, band="true", metrics="memory", k=0)["series"]["memory"]
    assert entry["lower"][20:] == entry["expected"][20:] == entry["upper"][20:]
    bad = client.get(f"/resources/{db}/metrics", params={"band": "true", "k": -1})
    assert bad.status_code == 422 and "k" in bad.text
    plain = _metrics(client, db, metrics="memory")
    assert "band" not in plain and "upper" not in plain["series"]["memory"]
