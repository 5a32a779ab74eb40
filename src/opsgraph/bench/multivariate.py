"""`opsgraph bench multivariate`: scoring a resource's signals after training on its history.

The simulator provides two fault-free days of every resource's five signals (the training
files) and two days with a fault every hour (the test files, labelled by ground truth). Each
resource is scored as `opsgraph detect score --train --test` would score it, per approach, and
ROC-AUC and average precision are averaged over the resources that were hit.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import numpy.typing as npt

from opsgraph import __version__
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import SIGNALS
from opsgraph.core.table import Table
from opsgraph.ingest.offline import score_table
from opsgraph.models.multivariate import MultivariateEnsemble
from opsgraph.sim import CORE_FAULT_KINDS, SimulatedCloud


def roc_auc(scores: npt.NDArray[np.float64], labels: npt.NDArray[np.bool_]) -> float:
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]
    pos = int(labels.sum())
    neg = labels.size - pos
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


def average_precision(scores: npt.NDArray[np.float64], labels: npt.NDArray[np.bool_]) -> float:
    order = np.argsort(-scores, kind="stable")
    hits = labels[order]
    precision = np.cumsum(hits) / np.arange(1, hits.size + 1)
    return float((precision * hits).sum() / hits.sum())


def run_multivariate_bench(
    *, resources: int = 50, seed: int = 4, days: float = 2, every: int = 60, sample: int = 3
) -> dict[str, Any]:
    started = time.perf_counter()
    sim = SimulatedCloud.generate(resources, seed=seed, start_ts=1_750_000_000.0)
    cols = [sim.metrics.index(m) for m in SIGNALS]
    ids = list(sim.resource_ids)
    steps = int(days * 1440)
    train = np.array([sim.step().values[:, cols] for _ in range(steps)])
    ts_train = np.asarray(sim.now - steps * sim.step_s + np.arange(steps) * sim.step_s, float)
    rng = np.random.default_rng(seed)
    kinds = list(CORE_FAULT_KINDS)
    labels = np.zeros((steps, len(ids)), dtype=bool)
    test = []
    ts_test = np.asarray(sim.now + np.arange(steps) * sim.step_s, dtype=np.float64)
    for t in range(steps):
        if t % every == every // 3:
            kind = kinds[(t // every) % len(kinds)]
            for node in rng.permutation(ids).tolist():
                try:
                    record = sim.inject(kind, node, duration_s=15 * sim.step_s)
                except InvalidInputError:
                    continue
                for a in record.affected:
                    labels[t : t + 15, ids.index(a)] = True
                break
        test.append(sim.step().values[:, cols])
    test_arr = np.array(test)
    approaches: dict[str, list[tuple[float, float]]] = {
        "streaming, no training": [],
        "streaming, trained": [],
        "ecod": [],
        "iforest": [],
        "ecod+iforest": [],
        "detect score --train default (PCA residual)": [],
    }
    names = list(SIGNALS)
    evaluated = 0
    for j in range(0, len(ids), sample):
        y = labels[:, j]
        if y.sum() < 5:
            continue
        evaluated += 1
        tr = Table(names, train[:, j, :], ts_train, [])
        te = Table(names, test_arr[:, j, :], ts_test, [])
        scores: dict[str, npt.NDArray[np.float64]] = {
            "streaming, no training": score_table(te).scores,
            "streaming, trained": score_table(te, tr, multivariate=()).scores,
        }
        for members in (["ecod"], ["iforest"], ["ecod", "iforest"]):
            model = MultivariateEnsemble(members)
            model.fit(train[:, j, :])
            scores["+".join(members)] = model.score(test_arr[:, j, :])[0]
        scores["detect score --train default (PCA residual)"] = score_table(te, tr).scores
        for name, s in scores.items():
            approaches[name].append((roc_auc(s, y), average_precision(s, y)))
    results = [
        {
            "approach": name,
            "roc_auc": round(float(np.mean([v[0] for v in values])), 4),
            "average_precision": round(float(np.mean([v[1] for v in values])), 4),
        }
        for name, values in approaches.items()
    ]
    return {
        "benchmark": "multivariate",
        "opsgraph": __version__,
        "resources_evaluated": evaluated,
        "rows_per_file": steps,
        "seconds": round(time.perf_counter() - started, 1),
        "results": results,
    }
