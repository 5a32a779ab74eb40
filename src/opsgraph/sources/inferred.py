"""Dependencies inferred from metrics when no topology is given, marked as inferred.

For every metric that several nodes report, each node's series is differenced (daily and weekly
shapes shared by the whole estate mostly cancel) and standardised. Two nodes are linked when
the changes of one follow the changes of the other: the largest correlation over lags 0..L
(in either order) reaches `min_corr`. Each node keeps at most `per_node` links, its strongest.
Load flows from caller to callee, so where request counts correlate, the node whose changes
come first is taken as the caller; otherwise the direction is the leader's, or by name when
neither leads (the edge says which).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from opsgraph.core.models import Dependency, DependencyKind

#: Metrics whose changes travel with load, caller first.
LOAD_METRICS = frozenset({"request_count", "requests", "rps", "throughput", "lod", "load"})

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class InferredEdge:
    source: str
    target: str
    correlation: float
    lag: int  # rows by which the source's changes lead the target's
    metric: str

    def dependency(self) -> Dependency:
        return Dependency(
            source=self.source, target=self.target, kind=DependencyKind.CALLS, inferred=True
        )


def _standardised_changes(values: FloatArray) -> FloatArray:
    diffs = np.diff(values, axis=0)
    diffs = np.where(np.isfinite(diffs), diffs, 0.0)
    diffs -= diffs.mean(axis=0)
    sd = diffs.std(axis=0)
    return np.asarray(np.where(sd > 0, diffs / np.where(sd > 0, sd, 1.0), 0.0))


def infer_edges(
    nodes: list[str],
    metrics: list[str],
    values: FloatArray,
    *,
    max_lag: int = 3,
    min_corr: float = 0.6,
    per_node: int = 3,
) -> list[InferredEdge]:
    """Edges between nodes whose metric changes move together (see the module docstring)."""
    if values.shape[0] < max_lag + 10:
        raise ValueError(f"need at least {max_lag + 10} rows to infer dependencies")
    names = sorted(set(nodes))
    where = {n: i for i, n in enumerate(names)}
    n = len(names)
    best = np.zeros((n, n))
    best_lag = np.zeros((n, n), dtype=np.int64)
    best_metric = np.full((n, n), "", dtype=object)
    for metric in sorted(set(metrics)):
        cols = [k for k, m in enumerate(metrics) if m == metric]
        if len(cols) < 2:
            continue
        z = _standardised_changes(values[:, cols])
        idx = np.array([where[nodes[k]] for k in cols])
        rows = z.shape[0]
        for lag in range(max_lag + 1):
            # corr[a, b]: a's changes at t against b's at t + lag (a leads b by `lag`).
            corr = z[: rows - lag].T @ z[lag:] / max(rows - lag, 1)
            np.fill_diagonal(corr, 0.0)
            # A load metric is what tells the caller: weigh it first on ties.
            bonus = 1e-3 if metric in LOAD_METRICS else 0.0
            strength = np.abs(corr) + bonus
            sub_best = best[np.ix_(idx, idx)]
            better = strength > sub_best
            if better.any():
                rows_a, cols_b = np.nonzero(better)
                best[idx[rows_a], idx[cols_b]] = strength[rows_a, cols_b]
                best_lag[idx[rows_a], idx[cols_b]] = lag
                best_metric[idx[rows_a], idx[cols_b]] = metric
    # One link per pair, in the direction of its strongest lead.
    edges: list[InferredEdge] = []
    for i in range(n):
        for j in range(i + 1, n):
            forward, backward = best[i, j], best[j, i]
            strength = max(forward, backward)
            if strength < min_corr:
                continue
            ahead = forward > backward or (forward == backward and best_lag[i, j] >= best_lag[j, i])
            a, b = (i, j) if ahead else (j, i)
            lag = int(best_lag[a, b])
            metric = str(best_metric[a, b])
            if lag == 0 and metric not in LOAD_METRICS:
                a, b = min(a, b), max(a, b)  # neither leads: by name
            edges.append(InferredEdge(names[a], names[b], round(float(strength), 4), lag, metric))
    edges.sort(key=lambda e: -e.correlation)
    kept: list[InferredEdge] = []
    degree: dict[str, int] = {}
    for e in edges:
        if degree.get(e.source, 0) >= per_node and degree.get(e.target, 0) >= per_node:
            continue
        kept.append(e)
        degree[e.source] = degree.get(e.source, 0) + 1
        degree[e.target] = degree.get(e.target, 0) + 1
    return kept
