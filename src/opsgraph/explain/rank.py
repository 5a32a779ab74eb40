"""Root-cause ranking: anomaly evidence, a random walk over the dependency graph and timing.

1. Each node's anomaly is its strongest metric's score (`evidence.py`).
2. With a graph, a personalised PageRank walks from anomalous nodes towards their causes.
   Symptoms (latency, errors, saturation) travel from callee to caller, so the walk goes to a
   callee in proportion to the callee's symptom anomaly. Load travels the other way: a surge
   of requests comes from the callers, so the walk goes back to a caller in proportion to the
   caller's traffic anomaly (plus a small weight for any anomaly). Or it stays, in proportion
   to the node's own anomaly; restarts follow the anomaly scores. Nodes where the walk gathers
   explain the others.
3. Who changed first: a node whose first change comes later than another candidate's is less
   likely the cause.

The product of the three ranks the nodes; a power-normalisation of it gives each hypothesis a
confidence that sums to one over the candidates (its exponent is set on the simulated
benchmark so that the top hypothesis' confidence matches its measured accuracy).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from opsgraph.explain.evidence import ONSET, FloatArray, MetricEvidence

#: Restart probability of the walk, and the weight of a step back to a caller.
RESTART = 0.15
BACKWARD = 0.1
#: Exponent of the walk's share in the final score.
WALK_WEIGHT = 0.5
#: A node that changed this many rows after the first change is half as likely.
ONSET_HALF_LIFE = 5.0
#: Sharpness of the confidences (see the module docstring).
CONFIDENCE_POWER = 4.0
#: How much more a loaded node's blame goes to its loaded callers.
LOAD_GAIN = 4.0
#: A node joins the cascade when its anomaly reaches this.
CASCADE_MIN = 6.0
#: Metrics that measure load: their anomalies point to callers, the others to callees.
TRAFFIC_METRICS = frozenset(
    {"request_count", "requests", "rps", "throughput", "net_in", "net_out", "lod", "load"}
)


@dataclass(slots=True)
class NodeRank:
    node: str
    score: float
    confidence: float
    anomaly: float
    walk: float | None
    onset_row: int | None
    evidence: list[MetricEvidence] = field(default_factory=list)


@dataclass(slots=True)
class RcaResult:
    ranking: list[NodeRank]
    cascade_path: list[str]
    cascade_nodes: list[str]
    method: str
    fault_row: int

    @property
    def hypotheses(self) -> list[NodeRank]:
        return self.ranking[:3]


def _walk(
    nodes: list[str],
    edges: Sequence[tuple[str, str]],
    members: Sequence[tuple[str, str]],
    anomaly: FloatArray,
    symptom: FloatArray,
    traffic: FloatArray,
) -> FloatArray:
    """Stationary distribution of the anomaly-weighted walk with restarts (power iteration)."""
    n = len(nodes)
    where = {name: i for i, name in enumerate(nodes)}
    pairs = [(where[a], where[b]) for a, b in edges if a in where and b in where and a != b]
    weight = np.maximum(anomaly, 1e-6)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    # A node whose own load rose hands the blame to its callers, not to its callees: its
    # symptoms may come from the load, and the load comes from upstream.
    loaded = traffic >= ONSET
    for caller, callee in pairs:
        rows += [caller, callee]
        cols += [callee, caller]
        down = 0.0 if loaded[caller] else symptom[callee]
        up = traffic[caller] * (LOAD_GAIN if loaded[callee] else 1.0) + BACKWARD * weight[caller]
        vals += [down, up]
    # A group's metrics are its members': its blame goes to them, theirs never to it.
    for group, member in members:
        if group in where and member in where and group != member:
            rows.append(where[group])
            cols.append(where[member])
            vals.append(weight[where[member]])
    # Staying put is as likely as the node's own anomaly: a root with quiet callees keeps it.
    rows += list(range(n))
    cols += list(range(n))
    vals += weight.tolist()
    step = sparse.csr_matrix((vals, (rows, cols)), shape=(n, n))
    out_sum = np.asarray(step.sum(axis=1)).ravel()
    step = sparse.diags(1.0 / out_sum) @ step
    restart = weight / weight.sum()
    p = restart.copy()
    transposed = step.T.tocsr()
    for _ in range(100):
        nxt = (1.0 - RESTART) * (transposed @ p) + RESTART * restart
        if np.abs(nxt - p).sum() < 1e-10:
            return np.asarray(nxt, dtype=np.float64)
        p = nxt
    return np.asarray(p, dtype=np.float64)


def _cascade(
    root: str,
    edges: Sequence[tuple[str, str]],
    members: Sequence[tuple[str, str]],
    anomalous: dict[str, int | None],
) -> tuple[list[str], list[str]]:
    """Anomalous nodes connected to the root through anomalous nodes, and the longest such
    chain (root first, the farthest symptom last). Calls are followed both ways, since errors
    climb to callers and load descends to callees; groups and members both ways too."""
    near: dict[str, set[str]] = {}
    for a, b in [*edges, *members]:
        near.setdefault(a, set()).add(b)
        near.setdefault(b, set()).add(a)
    parent: dict[str, str | None] = {root: None}
    depth = {root: 0}
    queue = deque([root])
    while queue:
        node = queue.popleft()
        for nxt in sorted(near.get(node, ())):
            if nxt in anomalous and nxt not in parent:
                parent[nxt] = node
                depth[nxt] = depth[node] + 1
                queue.append(nxt)
    far = max(parent, key=lambda v: (depth[v], -(anomalous.get(v) or 0), v))
    path = [far]
    step = parent[far]
    while step is not None:
        path.append(step)
        step = parent[step]
    return path[::-1], sorted(parent, key=lambda v: (depth[v], v))


def _strongest(evidence: list[MetricEvidence], keep: int = 3) -> list[MetricEvidence]:
    """A node's strongest evidence: up to `keep` metrics past the onset, else its best one."""
    ranked = sorted(evidence, key=lambda e: -e.score)
    strong = [e for e in ranked[:keep] if e.score >= ONSET]
    return strong or ranked[:1]


def rank_root_causes(
    evidence: Sequence[MetricEvidence],
    *,
    nodes: Sequence[str] | None = None,
    edges: Sequence[tuple[str, str]] | None = None,
    members: Sequence[tuple[str, str]] = (),
    fault_row: int = 0,
    prior: Mapping[str, float] | None = None,
) -> RcaResult:
    """Rank every node with evidence (or every node of `nodes`) as the fault's root cause.

    `edges` are calls (caller, callee); `members` are (group, member) pairs such as an Auto
    Scaling group and its instances. `prior`, when given, weighs each node's score (a node it
    does not name weighs 1), for instance by how its metrics move with a violated SLO
    (`evidence.slo_affinity`)."""
    by_node: dict[str, list[MetricEvidence]] = {}
    for e in evidence:
        by_node.setdefault(e.node, []).append(e)
    names = sorted(set(nodes or []) | set(by_node))
    if not names:
        raise ValueError("no node has evidence to rank")

    def strongest(v: str, traffic: bool | None = None) -> float:
        scores = [
            e.score
            for e in by_node.get(v, [])
            if traffic is None or (e.metric in TRAFFIC_METRICS) == traffic
        ]
        return max(scores, default=0.0)

    anomaly = np.array([strongest(v) for v in names])
    onsets = [
        min((e.change_row for e in by_node.get(v, []) if e.change_row is not None), default=None)
        for v in names
    ]
    score = anomaly / max(float(anomaly.max()), 1e-12)
    walk: FloatArray | None = None
    if edges:
        symptom = np.array([strongest(v, traffic=False) for v in names])
        traffic = np.array([strongest(v, traffic=True) for v in names])
        walk = _walk(names, edges, members, anomaly, symptom, traffic)
        score = score * (walk / walk.max()) ** WALK_WEIGHT
    # Timing: among anomalous nodes, the later a node's first change, the less likely.
    changed = [o for o, a in zip(onsets, anomaly, strict=True) if o is not None and a >= ONSET]
    if changed:
        first = min(changed)
        late = np.array([(o - first) if o is not None else 0.0 for o in onsets], dtype=float)
        score = score * 0.5 ** (late / ONSET_HALF_LIFE)
    if prior is not None:
        score = score * np.array([max(float(prior.get(v, 1.0)), 0.0) for v in names])
    weights = score**CONFIDENCE_POWER
    confidence = weights / max(float(weights.sum()), 1e-300)
    order = np.argsort(-score, kind="stable")
    ranking = [
        NodeRank(
            node=names[i],
            score=float(score[i]),
            confidence=float(confidence[i]),
            anomaly=float(anomaly[i]),
            walk=None if walk is None else float(walk[i]),
            onset_row=onsets[i],
            evidence=_strongest(by_node.get(names[i], [])),
        )
        for i in order.tolist()
    ]
    root = ranking[0].node
    anomalous = {
        v: o
        for v, o, a in zip(names, onsets, anomaly, strict=True)
        if a >= CASCADE_MIN or v == root
    }
    if edges:
        path, reached = _cascade(root, edges, members, anomalous)
        method = "robust evidence + anomaly-weighted random walk + change timing"
    else:
        # No graph: the order in which the anomalous nodes changed, the root first.
        timeline = sorted(
            (v for v in anomalous if v != root),
            key=lambda v: (anomalous[v] if anomalous[v] is not None else 1 << 30, v),
        )
        path = [root, *timeline]
        reached = path
        method = "robust evidence + change timing (no graph: the path is the order of change)"
    return RcaResult(ranking, path, reached, method, fault_row)
