"""Graph model endpoints: what is served (`/model_info`, the multivariate model of model.py
too), node predictions over a graph sent in the request, SHAP + GNNExplainer explanations.

Requests carry nodes (the five signals now, optionally older rows) and caller -> callee edges;
anything malformed (unknown node in an edge, NaN, wrong number of values) is refused with 422.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from opsgraph.api.deps import RuntimeDep
from opsgraph.api.routes.model import ResourceModelsDep
from opsgraph.core.errors import ConflictError
from opsgraph.core.metrics import RESOURCE_ID_RE, SIGNALS
from opsgraph.core.models import severity_for

router = APIRouter(tags=["models"])

NodeId = Annotated[str, StringConstraints(pattern=RESOURCE_ID_RE.pattern)]
#: Largest graph and history accepted in one request.
MAX_NODES = 20_000
MAX_EDGES = 200_000
MAX_HISTORY = 240


def _finite(values: list[float], where: str) -> None:
    bad = [i for i, v in enumerate(values) if not math.isfinite(v)]
    if bad:
        raise ValueError(f"{where}: value {bad[0]} is not a finite number")


class NodeIn(BaseModel):
    """One node: its signals now as `features` (cpu, memory, latency_ms, error_rate,
    request_count, in that order) or as named `metrics`, and optional older rows."""

    model_config = ConfigDict(extra="forbid")

    id: NodeId
    kind: str | None = Field(default=None, max_length=40)
    features: list[float] | None = None
    metrics: dict[str, float] | None = None
    history: list[list[float]] = Field(default_factory=list, max_length=MAX_HISTORY)

    @model_validator(mode="after")
    def _check(self) -> NodeIn:
        n = len(SIGNALS)
        if (self.features is None) == (self.metrics is None):
            raise ValueError(f"node {self.id!r}: give exactly one of features and metrics")
        if self.features is not None and len(self.features) != n:
            raise ValueError(
                f"node {self.id!r}: features needs {n} values ({', '.join(SIGNALS)}), "
                f"got {len(self.features)}"
            )
        if self.metrics is not None:
            unknown = sorted(set(self.metrics) - set(SIGNALS))
            if unknown:
                raise ValueError(
                    f"node {self.id!r}: unknown metrics {unknown} (known: {', '.join(SIGNALS)})"
                )
            _finite(list(self.metrics.values()), f"node {self.id!r} metrics")
        else:
            _finite(self.features or [], f"node {self.id!r} features")
        for i, row in enumerate(self.history):
            if len(row) != n:
                raise ValueError(
                    f"node {self.id!r}: history row {i} needs {n} values, got {len(row)}"
                )
            _finite(row, f"node {self.id!r} history row {i}")
        return self

    def now(self) -> list[float]:
        if self.features is not None:
            return self.features
        got = self.metrics or {}
        return [got.get(s, math.nan) for s in SIGNALS]


class EdgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: NodeId
    target: NodeId


class GraphIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nodes: list[NodeIn] = Field(min_length=1, max_length=MAX_NODES)
    edges: list[EdgeIn] = Field(default_factory=list, max_length=MAX_EDGES)

    @model_validator(mode="after")
    def _check(self) -> GraphIn:
        ids = [n.id for n in self.nodes]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise ValueError(f"node {dup!r} appears twice")
        known = set(ids)
        for i, e in enumerate(self.edges):
            for end in (e.source, e.target):
                if end not in known:
                    raise ValueError(f"edge {i} names unknown node {end!r}")
        return self

    def window(self) -> Any:
        from opsgraph.models.gnn.features import GraphWindow

        rows = 1 + max(len(n.history) for n in self.nodes)
        values = np.full((rows, len(self.nodes), len(SIGNALS)), np.nan)
        for j, node in enumerate(self.nodes):
            past = node.history
            if past:
                values[rows - 1 - len(past) : rows - 1, j] = np.asarray(past, dtype=np.float64)
            values[-1, j] = node.now()
        index = {n.id: i for i, n in enumerate(self.nodes)}
        edges = np.asarray([(index[e.source], index[e.target]) for e in self.edges], dtype=np.int64)
        return GraphWindow(
            [n.id for n in self.nodes],
            values,
            edges=edges.T.reshape(2, -1),
            kinds=[n.kind or "?" for n in self.nodes],
        )


class ExplainIn(GraphIn):
    target: NodeId | None = Field(
        default=None, description="Node to explain (default: the highest-scoring one)."
    )

    @model_validator(mode="after")
    def _target(self) -> ExplainIn:
        if self.target is not None and self.target not in {n.id for n in self.nodes}:
            raise ValueError(f"target {self.target!r} is not one of the nodes")
        return self


def _model_ref(info: Any) -> dict[str, Any]:
    return {"name": info.name, "version": info.version, "threshold": info.threshold}


def _verdicts(ids: list[str], scores: np.ndarray, threshold: float) -> list[dict[str, Any]]:
    return [
        {
            "node_id": node,
            "score": round(float(p), 4),
            "is_anomaly": bool(p >= threshold),
            "severity": severity_for(float(p)).value if p >= threshold else None,
        }
        for node, p in zip(ids, scores, strict=True)
    ]


@router.get("/model_info", summary="Models served and the live detector's configuration")
def model_info(runtime: RuntimeDep, resource_models: ResourceModelsDep) -> dict[str, Any]:
    """The graph model (`graph_model`, its versions in `registered`), the multivariate
    resource model of /predict and /batch_predict (`multivariate_model`, its versions in
    `multivariate_registered`) and the live streaming detector."""
    detect = runtime.settings.detect
    return {
        "graph_model": runtime.graph_models.status(),
        "registered": runtime.graph_models.info(),
        "multivariate_model": resource_models.status(),
        "multivariate_registered": resource_models.info(),
        "live_detector": {
            "name": detect.detector,
            "params": detect.params,
            "window": detect.window,
            "alert_threshold": detect.alert_threshold,
        },
    }


@router.post("/predict/single", summary="Score one node on its own (no neighbours)")
def predict_single(node: NodeIn, runtime: RuntimeDep) -> dict[str, Any]:
    detector, info = runtime.graph_models.get()
    window = GraphIn(nodes=[node]).window()
    verdict = _verdicts(window.node_ids, detector.score(window), detector.threshold)[0]
    return verdict | {"model": _model_ref(info)}


@router.post("/predict/graph", summary="Score every node of a graph")
def predict_graph(graph: GraphIn, runtime: RuntimeDep) -> dict[str, Any]:
    detector, info = runtime.graph_models.get()
    window = graph.window()
    verdicts = _verdicts(window.node_ids, detector.score(window), detector.threshold)
    return {
        "nodes": verdicts,
        "anomalous": [v["node_id"] for v in verdicts if v["is_anomaly"]],
        "model": _model_ref(info),
    }


@router.post("/explain", summary="SHAP + GNNExplainer explanation of one node")
def explain(body: ExplainIn, runtime: RuntimeDep) -> dict[str, Any]:
    """Feature importance (sqrt of SHAP x GNNExplainer mask, or |z| when the model is flat
    around the node, which `method` and `fallback_reason` then say), important neighbours and
    edges (mask >= 0.5), and a one-line summary."""
    from opsgraph.explain.attribution import explain_node
    from opsgraph.explain.summary import gnn_summary

    detector, info = runtime.graph_models.get()
    if info.detector != "graphsage":
        raise ConflictError(f"explanations need a graphsage model; {info.detector} is served")
    window = body.window()
    scores = detector.score(window)
    target = window.node_ids.index(body.target) if body.target else int(np.argmax(scores))
    cfg = runtime.settings.gnn
    result = explain_node(
        detector,
        window,
        target,
        shap_samples=cfg.shap_samples,
        gnn_epochs=cfg.explain_epochs,
    ).to_json()
    result["summary"] = gnn_summary(result, detector.threshold)
    return result | {"model": _model_ref(info)}
