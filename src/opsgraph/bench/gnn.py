"""`opsgraph bench gnn`: the graph detectors on held-out topologies and unseen fault kinds,
against the same features without the graph, and inference time on a 10,000-node graph.

Supervised models (GraphSAGE, the MLP twin) train on labelled incidents of TRAIN_TOPOLOGIES
and the seen fault kinds; unsupervised ones (the self-supervised neighbourhood model,
Isolation Forest, the plain largest-|z| rule) learn from normal windows only and flag what is
stranger than 99 % of the training nodes.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch
from sklearn.ensemble import IsolationForest

from opsgraph.core.metrics import SIGNALS
from opsgraph.models.gnn.contract import GraphDetector
from opsgraph.models.gnn.dataset import LabelledWindows
from opsgraph.models.gnn.detector import (
    GraphDeviationDetector,
    GraphSageDetector,
    NodeMlpDetector,
    SupervisedNodeDetector,
    sparse_adjacency,
)
from opsgraph.models.gnn.features import node_features
from opsgraph.models.gnn.training import metrics, scores_of
from opsgraph.runtime.training import Plan, held_out_set, sim_windows, training_set

Scorer = Callable[[LabelledWindows], tuple[np.ndarray, np.ndarray]]
_Z = slice(len(SIGNALS), 2 * len(SIGNALS))


def _feature_rows(data: LabelledWindows) -> np.ndarray:
    return np.concatenate([node_features(w) for w in data.windows])


def _unsupervised(
    normal: LabelledWindows, raw: Callable[[np.ndarray], np.ndarray]
) -> tuple[Scorer, float]:
    """A scorer over feature rows and its threshold: the 99th percentile on normal nodes."""
    threshold = float(np.quantile(raw(_feature_rows(normal)), 0.99))

    def score(data: LabelledWindows) -> tuple[np.ndarray, np.ndarray]:
        return raw(_feature_rows(data)), np.concatenate(data.labels)

    return score, threshold


def _report(
    score: Scorer, threshold: float, held: LabelledWindows, unseen: LabelledWindows
) -> dict[str, dict[str, float]]:
    return {
        "held_out": metrics(*score(held), threshold),
        "unseen_faults": metrics(*score(unseen), threshold),
    }


def inference_time(resources: int = 10_000, repeats: int = 5, seed: int = 0) -> dict[str, Any]:
    """Milliseconds to score every node of one `resources`-node window (features + forward),
    with a GraphSAGE of the real shape trained one epoch on a tiny estate (the weights do not
    change the cost)."""
    data = sim_windows(resources, 99, incidents=1, fault_kinds=["cpu_hog"])
    window = data.windows[-1]
    detector = GraphSageDetector(epochs=1, seed=seed)
    small = sim_windows(30, 98, incidents=2)
    detector.fit(small.windows, small.labels)
    detector.score(window)  # warm-up: first calls allocate
    total, forward = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        x, e = detector.tensors(window)
        adj = sparse_adjacency(e, window.n_nodes)
        mid = time.perf_counter()
        detector.predict(x, adj)
        end = time.perf_counter()
        total.append((end - start) * 1000)
        forward.append((end - mid) * 1000)
    return {
        "nodes": window.n_nodes,
        "edges": int(window.undirected_edges().shape[1]),
        "median_ms": round(statistics.median(total), 1),
        "forward_ms": round(statistics.median(forward), 1),
        "threads": torch.get_num_threads(),
    }


#: Expected top signal of an explanation, per fault kind that moves one signal of its node.
EXPECTED_SIGNAL = {
    "cpu_hog": "cpu",
    "memory_leak": "memory",
    "latency_injection": "latency_ms",
    "error_burst": "error_rate",
}


def explain_latency(
    detector: GraphSageDetector,
    *,
    resources: int = 200,
    concurrent: int = 8,
    incidents: int = 8,
    seed: int = 5,
) -> dict[str, Any]:
    """Explain (SHAP x GNNExplainer, the served defaults of the `gnn` section) the flagged node
    of each fault window of a `resources`-node estate, `concurrent` requests at a time, as
    the API would under load: latency per request (queueing included), errors, and how often
    the explanation's top signal is the one the fault moves."""
    from concurrent.futures import ThreadPoolExecutor

    from opsgraph.explain.attribution import explain_node
    from opsgraph.models.settings import GnnSettings

    cfg = GnnSettings()
    data = sim_windows(resources, seed, incidents=incidents, fault_kinds=list(EXPECTED_SIGNAL))
    jobs = []
    for window, labels, kind in zip(data.windows, data.labels, data.kinds, strict=True):
        if kind in EXPECTED_SIGNAL and labels.any():
            scores = detector.score(window)
            node = int(np.argmax(np.where(labels, scores, -np.inf)))
            jobs.append((window, node, EXPECTED_SIGNAL[kind]))

    def one(job: tuple[Any, int, str]) -> tuple[float, bool | None]:
        window, node, expected = job
        start = time.perf_counter()
        try:
            ex = explain_node(
                detector,
                window,
                node,
                shap_samples=cfg.shap_samples,
                gnn_epochs=cfg.explain_epochs,
            )
        except Exception:  # counted, not raised: the figure is the error count
            return time.perf_counter() - start, None
        top = max(ex.feature_importance, key=lambda k: ex.feature_importance[k])
        return time.perf_counter() - start, top == expected

    explain_node(detector, jobs[0][0], jobs[0][1], gnn_epochs=10, shap_samples=8)  # warm-up
    # In waves of `concurrent` requests sent at once; each request's latency runs from the
    # wave's start to its answer.
    answers: list[tuple[float, bool | None]] = []
    with ThreadPoolExecutor(max_workers=concurrent) as pool:
        for i in range(0, len(jobs), concurrent):
            answers.extend(pool.map(one, jobs[i : i + concurrent]))
    ok = [hit for _, hit in answers if hit is not None]
    latency = [seconds for seconds, _ in answers]
    return {
        "nodes": resources,
        "requests": len(jobs),
        "concurrent": concurrent,
        "explain_epochs": cfg.explain_epochs,
        "shap_samples": cfg.shap_samples,
        "errors": len(jobs) - len(ok),
        "p50_s": round(float(np.percentile(latency, 50)), 3),
        "p95_s": round(float(np.percentile(latency, 95)), 3),
        "max_s": round(float(np.max(latency)), 3),
        "top_signal_correct": round(sum(ok) / len(ok), 4) if ok else None,
        "threads": torch.get_num_threads(),
    }


def run_gnn_bench(
    *,
    incidents: int = 48,
    epochs: int = 200,
    seed: int = 0,
    timing_nodes: int = 10_000,
    explain_nodes: int = 200,
) -> dict[str, Any]:
    plan = Plan(incidents=incidents)
    start = time.perf_counter()
    train = training_set(plan)
    normal = train.only([""])
    held = held_out_set(plan)
    unseen = held.only(["", *plan.unseen_kinds])
    results: dict[str, dict[str, Any]] = {}
    seconds: dict[str, float] = {}
    supervised: tuple[type[SupervisedNodeDetector], ...] = (GraphSageDetector, NodeMlpDetector)
    for cls in supervised:
        t = time.perf_counter()
        det: GraphDetector = cls(epochs=epochs, seed=seed)
        det.fit(train.windows, train.labels)
        seconds[det.name] = time.perf_counter() - t
        results[det.name] = _report(partial(scores_of, det), det.threshold, held, unseen)
        if isinstance(det, GraphSageDetector):
            sage = det
    t = time.perf_counter()
    dev = GraphDeviationDetector(epochs=min(epochs, 150), seed=seed)
    dev.fit(normal.windows)
    seconds[dev.name] = time.perf_counter() - t
    results[dev.name] = _report(partial(scores_of, dev), dev.threshold, held, unseen)
    t = time.perf_counter()
    forest = IsolationForest(random_state=seed).fit(_feature_rows(normal))
    score, thr = _unsupervised(normal, lambda x: -forest.score_samples(x))
    seconds["isolation_forest"] = time.perf_counter() - t
    results["isolation_forest"] = _report(score, thr, held, unseen)
    score, thr = _unsupervised(normal, lambda x: np.abs(x[:, _Z]).max(axis=1))
    results["max_abs_z"] = _report(score, thr, held, unseen)
    return {
        "plan": plan.describe(),
        "train_windows": len(train),
        "held_out_windows": len(held),
        "epochs": epochs,
        "results": results,
        "fit_seconds": {k: round(v, 1) for k, v in seconds.items()},
        "inference": inference_time(timing_nodes, seed=seed),
        "explain": explain_latency(sage, resources=explain_nodes),
        "seconds": round(time.perf_counter() - start, 1),
    }
