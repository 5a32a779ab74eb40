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


def run_gnn_bench(
    *, incidents: int = 48, epochs: int = 200, seed: int = 0, timing_nodes: int = 10_000
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
        "seconds": round(time.perf_counter() - start, 1),
    }
