"""Training data, held-out evaluation and training runs of the graph detectors.

The held-out set is built from topologies (sizes and seeds) not used in training, and it holds
fault kinds the supervised models never saw; metrics are reported on all of it and on the
unseen kinds alone. Recorded metrics of the self-supervised mode can come from a wide CSV.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import SIGNALS
from opsgraph.models.gnn.contract import GraphDetector
from opsgraph.models.gnn.dataset import LabelledWindows, sim_windows
from opsgraph.models.gnn.features import WINDOW_ROWS, GraphWindow
from opsgraph.sim import FaultKind

#: (resources, seed) of the estates trained on and of the held-out estates.
TRAIN_TOPOLOGIES: tuple[tuple[int, int], ...] = ((40, 1), (80, 2), (120, 3), (60, 4))
HELD_OUT_TOPOLOGIES: tuple[tuple[int, int], ...] = ((70, 11), (150, 12))
#: Fault kinds kept out of supervised training, to see whether what was learned transfers.
UNSEEN_KINDS: tuple[str, ...] = (FaultKind.DISK_FULL.value, FaultKind.MISCONFIGURATION.value)


@dataclass(frozen=True, slots=True)
class Plan:
    """Which simulated data a run trains and evaluates on."""

    incidents: int = 48
    train_topologies: tuple[tuple[int, int], ...] = TRAIN_TOPOLOGIES
    held_out_topologies: tuple[tuple[int, int], ...] = HELD_OUT_TOPOLOGIES
    unseen_kinds: tuple[str, ...] = UNSEEN_KINDS

    @property
    def seen_kinds(self) -> list[str]:
        return [k.value for k in FaultKind if k.value not in self.unseen_kinds]

    def describe(self) -> dict[str, Any]:
        return {
            "source": "simulated cloud",
            "incidents_per_topology": self.incidents,
            "train_topologies": [list(t) for t in self.train_topologies],
            "held_out_topologies": [list(t) for t in self.held_out_topologies],
            "train_fault_kinds": self.seen_kinds,
            "unseen_fault_kinds": list(self.unseen_kinds),
        }


def build(
    topologies: Iterable[tuple[int, int]], incidents: int, kinds: Sequence[str] | None
) -> LabelledWindows:
    out = LabelledWindows()
    for resources, seed in topologies:
        out.extend(sim_windows(resources, seed, incidents=incidents, fault_kinds=kinds))
    return out


def training_set(plan: Plan) -> LabelledWindows:
    return build(plan.train_topologies, plan.incidents, plan.seen_kinds)


def held_out_set(plan: Plan) -> LabelledWindows:
    return build(plan.held_out_topologies, plan.incidents, None)


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
