"""/predict, /batch_predict and the multivariate part of /model_info: bootstrap from the store,
verdicts with severity and attribution, newer versions served, and refused input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from opsgraph.api import create_app
from opsgraph.core.metrics import SIGNALS
from opsgraph.models.resource_model import ResourceModelRegistry, fit_and_register
from opsgraph.runtime.resource_models import history_from_store
from opsgraph.runtime.root import Runtime
from opsgraph.runtime.settings import Settings


@pytest.fixture
def fast(runtime: Runtime) -> Runtime:
    """Bootstrap LOF alone, the quickest member (the default ensemble has a test of its own)."""
    runtime.resource_models.detector = "lof"
    return runtime


def _healthy(runtime: Runtime) -> dict[str, float]:
    X, _ = history_from_store(runtime.store)
    return {s: float(v) for s, v in zip(SIGNALS, np.median(X, axis=0), strict=True)}


def test_first_predict_bootstraps_from_the_store(client: TestClient, runtime: Runtime) -> None:
    before = client.get("/model_info").json()
    assert before["multivariate_model"]["version"] is None
    assert before["multivariate_registered"] == [] and before["registered"] == []
    res = client.post("/predict", json={"features": _healthy(runtime), "resource_id": "db-1"})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["resource_id"] == "db-1" and not body["is_anomaly"] and body["severity"] is None
    assert body["score"] == 0.0 and body["drivers"] == []
    assert body["model"] == {
        "name": "multivariate",
        "version": 1,
        "detector": "ensemble",
        "threshold": 0.35,
        "features": list(SIGNALS),
    }
    after = client.get("/model_info").json()
    [version] = after["multivariate_registered"]
    assert version["family"] == "multivariate" and version["data"]["bootstrap"] is True
    assert version["data"]["resources"] == 30 and version["config"]["members"] == [
        "iforest",
        "ocsvm",
        "lof",
    ]
    assert after["multivariate_model"]["required_features"] == list(SIGNALS)
    assert after["registered"] == []  # the graph family does not list it
    assert (Path(version["path"]) / "model.pkl").is_file()


def test_a_sick_sample_is_flagged_with_the_signal_that_drove_it(
    client: TestClient, fast: Runtime
) -> None:
    features = _healthy(fast) | {"cpu": 99.5}
    body = client.post("/predict", json={"features": features}).json()
    assert body["is_anomaly"] and body["score"] >= 0.35
    assert body["severity"] in {"medium", "high", "critical"}
    assert body["drivers"][0] == "cpu" and body["attribution_method"] == "shapley"
    assert set(body["attribution"]) == set(SIGNALS)
    assert sum(body["attribution"].values()) == pytest.approx(1.0, abs=1e-3)
    assert max(body["attribution"], key=body["attribution"].get) == "cpu"


def test_batch_predict_marks_the_anomalous_samples(client: TestClient, fast: Runtime) -> None:
    healthy = _healthy(fast)
    samples = [{"features": healthy, "resource_id": f"vm-{i}"} for i in range(6)]
    samples[2] = {"features": healthy | {"latency_ms": healthy["latency_ms"] * 40}}
    samples[4] = {"features": healthy | {"error_rate": 0.9, "cpu": 99.0}}
    res = client.post("/batch_predict", json={"samples": samples})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["anomalous"] == [2, 4] and body["model"]["detector"] == "lof"
    results = body["results"]
    assert [r["index"] for r in results] == list(range(6))
    assert results[0]["resource_id"] == "vm-0" and results[2]["resource_id"] is None
    assert results[2]["drivers"][0] == "latency_ms"
    assert set(results[4]["drivers"]) <= {"error_rate", "cpu"} and results[4]["drivers"]
    # A sample's verdict does not depend on the other samples of its batch.
    alone = client.post("/predict", json={"features": samples[4]["features"]}).json()
    assert alone["score"] == results[4]["score"]


def test_a_newer_registered_version_is_served(client: TestClient, fast: Runtime) -> None:
    healthy = _healthy(fast)
    assert client.post("/predict", json={"features": healthy}).json()["model"]["version"] == 1
    X, info = history_from_store(fast.store)
    registry = ResourceModelRegistry(fast.settings.data_dir / "models")
    fit_and_register(registry, X, SIGNALS, data=info, detector="iforest", threshold=0.5)
    model = client.post("/predict", json={"features": healthy}).json()["model"]
    assert (model["version"], model["detector"], model["threshold"]) == (2, "iforest", 0.5)
    listed = client.get("/model_info").json()["multivariate_registered"]
    assert [m["version"] for m in listed] == [1, 2]


def test_required_features_follow_the_served_model(client: TestClient, fast: Runtime) -> None:
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(50, 5, 300), rng.normal(70, 3, 300)])
    registry = ResourceModelRegistry(fast.settings.data_dir / "models")
    fit_and_register(registry, X, ["cpu", "disk"], data={"source": "test"}, detector="ecod")
    res = client.post("/predict", json={"features": {"cpu": 50.0, "memory": 3.0}})
    assert res.status_code == 422
    fields = {e["field"]: e["message"] for e in res.json()["errors"]}
    assert "unknown feature 'memory'" in fields["body.features.memory"]
    assert "needs cpu, disk" in fields["body.features.disk"]
    ok = client.post("/predict", json={"features": {"cpu": 50.0, "disk": 99.0}}).json()
    assert ok["is_anomaly"] and ok["drivers"] == ["disk"]


def _batch(features: dict[str, object], at: int = 3) -> dict[str, object]:
    good = {s: 1.0 for s in SIGNALS}
    samples: list[dict[str, object]] = [{"features": good} for _ in range(5)]
    samples[at] = {"features": features}
    return {"samples": samples}


@pytest.mark.parametrize(
    ("body", "field", "needle"),
    [
        (
            _batch({**dict.fromkeys(SIGNALS, 1.0), "cpux": 1.0}),
            "samples[3].features.cpux",
            "unknown",
        ),
        (_batch(dict.fromkeys(SIGNALS[1:], 1.0)), "samples[3].features.cpu", "required"),
        (
            _batch({**dict.fromkeys(SIGNALS, 1.0), "cpu": "93.1"}),
            "samples[3].features.cpu",
            "number",
        ),
        (_batch({**dict.fromkeys(SIGNALS, 1.0), "cpu": None}), "samples[3].features.cpu", "number"),
        (_batch({**dict.fromkeys(SIGNALS, 1.0), "cpu": True}), "samples[3].features.cpu", "number"),
        (_batch({}), "samples[3].features", "at least 1"),
        ({"samples": []}, "samples", "at least 1"),
        ({"samples": [{"features": {"cpu": 1.0}, "resource_id": "a b"}]}, "resource_id", "pattern"),
        (
            {"samples": [{"features": {"cpu": 1.0}, "extra": 1}]},
            "samples[0].extra",
            "not permitted",
        ),
        ({"samples": [{"features": {"bad name": 1.0}}]}, "samples[0].features.bad name", "pattern"),
        ({"sample": []}, "samples", "required"),
    ],
)
def test_bad_batches_get_422_naming_the_field(
    client: TestClient, fast: Runtime, body: dict[str, object], field: str, needle: str
) -> None:
    res = client.post("/batch_predict", json=body)
    assert res.status_code == 422, res.text
    found = [e for e in res.json()["errors"] if field in e["field"]]
    assert found and needle in found[0]["message"], res.text


def test_nan_infinity_and_oversized_batches_are_refused(client: TestClient, fast: Runtime) -> None:
    for raw in ("NaN", "Infinity", "-Infinity", "1e999"):
        rest = '"memory": 1, "latency_ms": 1, "error_rate": 0, "request_count": 1'
        text = f'{{"features": {{"cpu": {raw}, {rest}}}}}'
        res = client.post("/predict", content=text, headers={"content-type": "application/json"})
        assert res.status_code == 422 and "body.features.cpu" in res.text, res.text
        assert "finite" in res.text
    many = {"samples": [{"features": {"cpu": 1.0}}] * 10_001}
    res = client.post("/batch_predict", json=many)
    assert res.status_code == 422 and "at most 10000" in res.text
    # Every sample missing a feature: the 422 lists a bounded number of problems.
    res = client.post("/batch_predict", json={"samples": [{"features": {"cpu": 1.0}}] * 500})
    errors = res.json()["errors"]
    assert res.status_code == 422 and len(errors) == 100
    assert errors[-1] == {
        "field": "body",
        "message": "1901 more such problems",
        "type": "too_many_errors",
    }


def test_no_bootstrap_is_a_409_saying_how_to_train(client: TestClient, runtime: Runtime) -> None:
    runtime.resource_models.bootstrap = False
    res = client.post("/predict", json={"features": {s: 1.0 for s in SIGNALS}})
    assert res.status_code == 409 and "opsgraph train multivariate" in res.json()["detail"]
    assert client.get("/model_info").json()["multivariate_model"]["version"] is None


@pytest.fixture
def young(tmp_path: Path) -> Iterator[TestClient]:
    """An estate with five steps of history: too little to bootstrap from."""
    settings = Settings(
        data_dir=tmp_path,
        sim={"resources": 10, "seed": 1, "preroll_steps": 5},
        auth={"enabled": False},
    )
    runtime = Runtime(settings, demo=True)
    runtime.simulation.start()
    with TestClient(create_app(runtime, run_pipeline=False)) as client:
        yield client
    runtime.close()


def test_too_little_history_is_a_409_not_a_crash(young: TestClient) -> None:
    res = young.post("/batch_predict", json={"samples": [{"features": {"cpu": 1.0}}]})
    assert res.status_code == 409, res.text
    detail = res.json()["detail"]
    assert "holds 50 complete healthy rows" in detail and "--data FILE.csv" in detail
