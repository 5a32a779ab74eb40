"""Evaluation of the graph detectors (scores, metrics at a threshold, held-out reports) and
graph windows from recorded metrics for the self-supervised mode (a wide CSV). The simulated
training and held-out sets are made in `runtime/training.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from sklearn.metrics import average_precision_score

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import SIGNALS
from opsgraph.models.gnn.contract import GraphDetector
from opsgraph.models.gnn.dataset import LabelledWindows
from opsgraph.models.gnn.features import WINDOW_ROWS, GraphWindow


def scores_of(detector: GraphDetector, data: LabelledWindows) -> tuple[np.ndarray, np.ndarray]:
    scores = np.concatenate([detector.score(w) for w in data.windows])
    return scores, np.concatenate(data.labels)


def metrics(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    """Precision, recall, F1 at the threshold and the area under the precision-recall curve."""
    flagged = scores >= threshold
    tp = int((flagged & labels).sum())
    precision = tp / max(int(flagged.sum()), 1)
    recall = tp / max(int(labels.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    auc_pr = float(average_precision_score(labels, scores)) if labels.any() else float("nan")
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "auc_pr": round(auc_pr, 4),
        "nodes": int(labels.size),
        "anomalous": int(labels.sum()),
    }


def evaluate(
    detector: GraphDetector, data: LabelledWindows, unseen_kinds: Iterable[str]
) -> dict[str, dict[str, float]]:
    """Metrics on every held-out window, and on normal windows plus the unseen fault kinds."""
    unseen = data.only(["", *unseen_kinds])
    return {
        "held_out": metrics(*scores_of(detector, data), detector.threshold),
        "unseen_faults": metrics(*scores_of(detector, unseen), detector.threshold),
    }


def windows_from_table(
    nodes: Sequence[str],
    metric_names: Sequence[str],
    values: np.ndarray,
    edges: Sequence[tuple[str, str]],
    *,
    stride: int = 5,
) -> list[GraphWindow]:
    """Sliding windows over recorded wide metrics (one column per node and metric), for the
    self-supervised mode; signals a node lacks stay missing."""
    ids = sorted(set(nodes))
    index = {n: i for i, n in enumerate(ids)}
    rows = values.shape[0]
    if rows < WINDOW_ROWS:
        raise InvalidInputError("metrics", f"needs at least {WINDOW_ROWS} rows, got {rows}")
    cube = np.full((rows, len(ids), len(SIGNALS)), np.nan)
    found = 0
    for col, (node, metric) in enumerate(zip(nodes, metric_names, strict=True)):
        if metric in SIGNALS:
            cube[:, index[node], SIGNALS.index(metric)] = values[:, col]
            found += 1
    if not found:
        raise InvalidInputError(
            "metrics", f"no column names one of the signals {', '.join(SIGNALS)}"
        )
    unknown = sorted({n for e in edges for n in e} - set(index))
    if unknown:
        raise InvalidInputError("graph", f"edges name nodes with no metrics: {unknown[:5]}")
    pairs = np.asarray([(index[a], index[b]) for a, b in edges], dtype=np.int64)
    edge_index = pairs.T.reshape(2, -1)
    return [
        GraphWindow(ids, cube[end - WINDOW_ROWS : end], edges=edge_index)
        for end in range(WINDOW_ROWS, rows + 1, max(1, stride))
    ]
