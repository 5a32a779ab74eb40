"""/model_info, /predict/single, /predict/graph and /explain against a small trained model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from fastapi.testclient import TestClient

from opsgraph.runtime.root import Runtime

NORMAL = [35.0, 55.0, 40.0, 0.005, 120.0]


def _node(node_id: str, now: list[float], rows: int = 12, kind: str = "ec2") -> dict:
    rng = np.random.default_rng(len(node_id))
    history = [[v * (1 + 0.03 * rng.standard_normal()) for v in NORMAL] for _ in range(rows)]
    return {"id": node_id, "kind": kind, "features": now, "history": history}


def _graph() -> dict:
    sick = [97.0, 60.0, 900.0, 0.3, 120.0]
    return {
        "nodes": [
            _node("web-1", NORMAL),
            _node("app-1", sick),
            _node("db-1", NORMAL, kind="rds"),
            _node("batch-1", NORMAL),
            _node("s3-1", NORMAL, kind="s3"),
        ],
        "edges": [
            {"source": "web-1", "target": "app-1"},
            {"source": "app-1", "target": "db-1"},
            {"source": "batch-1", "target": "s3-1"},
        ],
    }


def test_no_model_is_a_clear_conflict_not_a_crash(client: TestClient) -> None:
    res = client.post("/predict/graph", json=_graph())
    assert res.status_code == 409 and "opsgraph train gnn" in res.json()["detail"]
    info = client.get("/model_info").json()
    assert info["registered"] == [] and info["live_detector"]["name"]


def test_model_info_lists_the_registered_model(client: TestClient, served: Runtime) -> None:
    info = client.get("/model_info").json()
    [model] = info["registered"]
    assert model["name"] == "graphsage" and model["version"] == 1
    assert model["metrics"]["held_out"]["f1"] == 0.9 and model["config"]["epochs"] == 40


def test_predict_graph_flags_the_sick_node(client: TestClient, served: Runtime) -> None:
    body = client.post("/predict/graph", json=_graph()).json()
    scores = {n["node_id"]: n for n in body["nodes"]}
    assert scores["app-1"]["is_anomaly"] and scores["app-1"]["severity"]
    for far in ("batch-1", "s3-1"):  # not connected to the sick node
        assert not scores[far]["is_anomaly"] and scores[far]["severity"] is None
    assert "app-1" in body["anomalous"] and body["model"]["version"] == 1


def test_predict_single_with_and_without_history(client: TestClient, served: Runtime) -> None:
    sick = client.post("/predict/single", json=_node("app-1", [97, 60, 900, 0.3, 120])).json()
    fine = client.post("/predict/single", json=_node("app-1", NORMAL)).json()
    assert sick["score"] > fine["score"] and sick["is_anomaly"] and not fine["is_anomaly"]
    bare = {"id": "x-1", "kind": "ec2", "metrics": {"cpu": 40.0, "latency_ms": 30.0}}
    res = client.post("/predict/single", json=bare)
    assert res.status_code == 200 and 0 <= res.json()["score"] <= 1


def test_explain_a_node(client: TestClient, served: Runtime) -> None:
    runtime = served
    runtime.settings.gnn.explain_epochs = 30
    runtime.settings.gnn.shap_samples = 32
    body = client.post("/explain", json=_graph() | {"target": "app-1"}).json()
    assert body["node_id"] == "app-1" and body["method"] in {"shap+gnnexplainer", "zscore-fallback"}
    assert set(body["feature_importance"]) == {
        "cpu",
        "memory",
        "latency_ms",
        "error_rate",
        "request_count",
    }
    assert math.isclose(sum(body["feature_importance"].values()), 1.0, abs_tol=1e-3)
    assert body["summary"].startswith("app-1 scores")
    default = client.post("/explain", json=_graph()).json()
    assert default["node_id"] == "app-1"  # the highest-scoring node


def test_concurrent_explanations_do_not_trip_over_each_other(
    client: TestClient, served: Runtime
) -> None:
    """GNNExplainer sets masks on the model it explains: each explanation explains its own copy
    of the served model, so eight at once all answer (three of four failed with an
    AssertionError inside torch_geometric when they shared it)."""
    from concurrent.futures import ThreadPoolExecutor

    targets = ["app-1", "web-1", "db-1", "batch-1"] * 2  # the default epochs and samples

    def ask(target: str) -> tuple[int, str]:
        r = client.post("/explain", json=_graph() | {"target": target})
        return r.status_code, r.json().get("node_id", r.text)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, targets))
    assert answers == [(200, t) for t in targets]


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda g: g["edges"].append({"source": "web-1", "target": "ghost"}), "ghost"),
        (lambda g: g["nodes"][0].update(features=[1.0, 2.0, 3.0]), "needs 5 values"),
        (lambda g: g["nodes"][0].update(features=[1.0, 2.0, 3.0, "x", 5.0]), "features"),
        (lambda g: g["nodes"][1]["history"].append([1.0, 2.0]), "history row 12"),
        (lambda g: g["nodes"].append(dict(g["nodes"][0])), "appears twice"),
        (lambda g: g["nodes"][0].update(metrics={"cpu": 1.0}), "exactly one"),
        (lambda g: g.update(nodes=[]), "nodes"),
        (lambda g: g.update(target="nobody"), "target"),
    ],
)
def test_bad_graphs_get_422_naming_the_problem(
    client: TestClient, served: Runtime, mutate, needle: str
) -> None:
    graph = _graph()
    mutate(graph)
    res = client.post("/explain", json=graph)
    assert res.status_code == 422, res.text
    assert needle in res.text


def test_nan_and_infinity_are_refused(client: TestClient, served: Runtime) -> None:
    raw = (
        '{"id": "a-1", "features": [NaN, 1, 2, 3, 4]}',
        '{"id": "a-1", "features": [1, 1, 2, 3, Infinity]}',
        '{"id": "a-1", "metrics": {"cpu": NaN}}',
    )
    for text in raw:
        res = client.post(
            "/predict/single", content=text, headers={"content-type": "application/json"}
        )
        assert res.status_code == 422 and "finite" in res.text, res.text
    res = client.post(
        "/predict/single", content="{not json", headers={"content-type": "application/json"}
    )
    assert res.status_code == 422
