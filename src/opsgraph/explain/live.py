"""Root cause of one anomaly: the metrics recorded around its start, ranked over the
neighbourhood of its resource in the dependency graph, with the resource's signal importance
and a summary. The caller reads the samples (the runtime, from its store)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import SIGNALS
from opsgraph.core.models import Anomaly, Dependency, DependencyKind
from opsgraph.core.table import table_from_series
from opsgraph.explain.evidence import score_metrics
from opsgraph.explain.rank import rank_root_causes
from opsgraph.explain.summary import evidence_json, result_json
from opsgraph.models.gnn.features import RECENT_ROWS, WINDOW_ROWS, GraphWindow

#: Seconds of normal history before the anomaly's start, and of fault after it.
BEFORE_S = 1800.0
AFTER_S = 600.0
#: Hops around the anomalous resource, and the most nodes taken.
HOPS = 3
MAX_NODES = 400


def neighbourhood(
    center: str, dependencies: Sequence[Dependency], hops: int, cap: int
) -> list[str]:
    """Nodes within `hops` edges of `center` (either direction), nearest first."""
    near: dict[str, set[str]] = {}
    for d in dependencies:
        near.setdefault(d.source, set()).add(d.target)
        near.setdefault(d.target, set()).add(d.source)
    seen = {center: 0}
    queue = deque([center])
    while queue and len(seen) < cap:
        node = queue.popleft()
        if seen[node] == hops:
            continue
        for nxt in sorted(near.get(node, ())):
            if nxt not in seen and len(seen) < cap:
                seen[nxt] = seen[node] + 1
                queue.append(nxt)
    return list(seen)


#: (resource, metric) -> (timestamps, values): the recorded samples of a neighbourhood.
Series = dict[tuple[str, str], tuple[list[float], list[float]]]


def window_of(
    anomaly: Anomaly, dependencies: Sequence[Dependency]
) -> tuple[list[str], float, float]:
    """The nodes (nearest first) and the time range whose samples explain an anomaly."""
    nodes = neighbourhood(anomaly.resource_id, dependencies, HOPS, MAX_NODES)
    return nodes, anomaly.start_ts - BEFORE_S, anomaly.start_ts + AFTER_S


def explain_anomaly(
    anomaly: Anomaly,
    series: Series,
    nodes: Sequence[str],
    dependencies: Sequence[Dependency],
    *,
    graph_model: GraphExplainer | None = None,
) -> dict[str, Any]:
    """Evidence, ranked root causes, cascade path and summary for one anomaly from the samples
    of its window (`window_of`); with a graph model, the resource's feature importance comes
    from SHAP x GNNExplainer instead of each signal's share of the deviation."""
    nodes = list(nodes)
    series = {key: value for key, value in series.items() if value[0]}
    if not series:
        raise InvalidInputError("anomaly", "no samples recorded around its start")
    table = table_from_series(series)
    times = table.ts if table.ts is not None else np.zeros(0)
    fault_row = int(np.searchsorted(times, anomaly.start_ts))
    if not 0 < fault_row < times.shape[0]:
        raise InvalidInputError("anomaly", "too little history before or after its start")
    kept = set(nodes)
    edges: dict[DependencyKind, list[tuple[str, str]]] = {k: [] for k in DependencyKind}
    for d in dependencies:
        if d.source in kept and d.target in kept:
            edges[d.kind].append((d.source, d.target))
    calls, members = edges[DependencyKind.CALLS], edges[DependencyKind.MEMBER]
    keys = list(series)
    evidence = score_metrics([n for n, _ in keys], [m for _, m in keys], table.values, fault_row)
    if not evidence:
        raise InvalidInputError("anomaly", "too little history before its start")
    result = rank_root_causes(
        evidence, nodes=nodes, edges=calls, members=members, fault_row=fault_row
    )
    body = result_json(result, times)
    own = [e for e in evidence if e.node == anomaly.resource_id]
    total = sum(e.score for e in own) or 1.0
    path = result.cascade_path
    on_path = set(pairwise(path))
    body.update(
        {
            "anomaly_id": anomaly.id,
            "resource_id": anomaly.resource_id,
            "feature_importance": {e.metric: round(e.score / total, 4) for e in own},
            "important_nodes": [
                {"node": r.node, "confidence": round(r.confidence, 4)} for r in result.ranking[:5]
            ],
            "important_edges": [
                {"source": d.source, "target": d.target, "kind": d.kind.value}
                for d in dependencies
                if (d.source, d.target) in on_path or (d.target, d.source) in on_path
            ],
            "deviation_share": {e.metric: round(e.score / total, 4) for e in own},
            "evidence": [evidence_json(e, times) for e in own[:5]],
            "window": {
                "start": float(times[0]),
                "fault": float(times[fault_row]),
                "end": float(times[-1]),
                "nodes": len(nodes),
                "series": len(series),
            },
        }
    )
    body["method"] = f"{result.method}; importance: share of each signal's deviation"
    if graph_model is not None:
        gnn = graph_model(
            _graph_window(keys, table.values, fault_row, nodes, calls + members),
            nodes.index(anomaly.resource_id),
        )
        body["feature_importance"] = gnn["feature_importance"]
        body["gnn"] = gnn
        body["method"] = f"{result.method}; importance: {gnn['method']}"
    return body


#: Scores and explains one node of a graph window (the GNN explainer with a served model).
GraphExplainer = Callable[[GraphWindow, int], dict[str, Any]]


def _graph_window(
    keys: Sequence[tuple[str, str]],
    values: np.ndarray,
    fault_row: int,
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str]],
) -> GraphWindow:
    """The neighbourhood's five signals in the rows that end RECENT_ROWS after the start."""
    end = min(values.shape[0], fault_row + RECENT_ROWS)
    rows = values[max(0, end - WINDOW_ROWS) : end]
    index = {n: i for i, n in enumerate(nodes)}
    cube = np.full((rows.shape[0], len(nodes), len(SIGNALS)), np.nan)
    for col, (node, metric) in enumerate(keys):
        if metric in SIGNALS:
            cube[:, index[node], SIGNALS.index(metric)] = rows[:, col]
    pairs = np.asarray([(index[a], index[b]) for a, b in edges], dtype=np.int64)
    return GraphWindow(list(nodes), cube, edges=pairs.T.reshape(2, -1))
