"""Root cause of an incident as the live path ranks it: the same evidence and ranking that
`opsgraph rca run` and `bench rca` measure, over the recorded samples of the incident's
neighbourhood, with the fault onset estimated from the data.

The onset is the earliest start among the incident's anomalies, that is the first point the
detector judged anomalous, moved `LEAD_ROWS` rows earlier: a detector confirms a change a
point or two after it begins, and the ranker's timing term needs the root's first move inside
the judged rows. Everything before is each series' normal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Dependency, DependencyKind
from opsgraph.core.table import table_from_series
from opsgraph.explain.evidence import PERSIST, score_metrics
from opsgraph.explain.live import Series, neighbourhood
from opsgraph.explain.rank import rank_root_causes
from opsgraph.explain.summary import evidence_json, summary

#: Seconds of history before the onset that make each series' normal.
BEFORE_S = 1800.0
#: Hops around the incident's resources whose nodes are candidates, and the most nodes.
HOPS = 2
MAX_NODES = 300
#: Rows before the detected onset that are judged too (see the module docstring).
LEAD_ROWS = 3
#: Hypotheses kept on the incident.
KEEP = 3
METHOD = "ranker over recorded samples, onset from the detector"


@dataclass(slots=True)
class Diagnosis:
    """The ranked root of an incident."""

    root: str
    confidence: float
    hypotheses: list[dict[str, Any]]
    onset_ts: float
    summary: str
    nodes: int
    series: int
    method: str = METHOD
    cascade_path: list[str] = field(default_factory=list)
    #: False while a change is too new to weigh: the incident's newest anomaly has fewer than
    #: PERSIST rows, or a neighbour of the root began to change in the last row (the ranker
    #: scores what a change held over PERSIST rows, so a change one row old is underrated).
    settled: bool = True


def incident_window(
    resource_ids: Sequence[str],
    onset_ts: float,
    end_ts: float,
    dependencies: Sequence[Dependency],
) -> tuple[list[str], float, float]:
    """The candidate nodes (the incident's own first, then their neighbours) and the time range
    whose samples diagnose an incident."""
    nodes: dict[str, None] = dict.fromkeys(resource_ids)
    for rid in resource_ids:
        for node in neighbourhood(rid, dependencies, HOPS, MAX_NODES):
            if len(nodes) >= MAX_NODES:
                break
            nodes.setdefault(node)
    return list(nodes), onset_ts - BEFORE_S, end_ts


def diagnose(
    onset_ts: float,
    series: Series,
    nodes: Sequence[str],
    dependencies: Sequence[Dependency],
    *,
    newest_ts: float | None = None,
) -> Diagnosis:
    """Rank the nodes of an incident's window as its root cause, from their recorded samples;
    `newest_ts`, the start of the incident's newest anomaly, says whether the ranking is
    settled (`Diagnosis.settled`).

    Raises InvalidInputError when the samples cannot be judged (nothing recorded, no history
    before the onset, nothing after it)."""
    series = {key: value for key, value in series.items() if value[0]}
    if not series:
        raise InvalidInputError("incident", "no samples recorded around its onset")
    table = table_from_series(series)
    times = table.ts if table.ts is not None else np.zeros(0)
    onset_row = int(np.searchsorted(times, onset_ts))
    fault_row = max(onset_row - LEAD_ROWS, 1)
    if not 0 < onset_row < times.shape[0] or fault_row >= times.shape[0]:
        raise InvalidInputError("incident", "too little history before or after its onset")
    kept = set(nodes)
    calls: list[tuple[str, str]] = []
    members: list[tuple[str, str]] = []
    for d in dependencies:
        if d.source in kept and d.target in kept:
            (members if d.kind is DependencyKind.MEMBER else calls).append((d.source, d.target))
    keys = list(series)
    evidence = score_metrics([n for n, _ in keys], [m for _, m in keys], table.values, fault_row)
    if not evidence:
        raise InvalidInputError("incident", "no series has enough history before its onset")
    result = rank_root_causes(
        evidence, nodes=list(nodes), edges=calls or None, members=members, fault_row=fault_row
    )
    top = result.ranking[0]
    # Settled: the incident's newest anomaly has PERSIST rows of evidence, and no neighbour of
    # the root only began to change in the last row (a callee whose outage shows one row
    # after its callers' errors would otherwise lose to them).
    last = times.shape[0] - 1
    near = {b for a, b in calls + members if a == top.node} | {
        a for a, b in calls + members if b == top.node
    }
    fresh = any(e.node in near and e.change_row == last for e in evidence)
    settled = not fresh and (
        newest_ts is None or int(np.count_nonzero(times >= newest_ts)) >= PERSIST
    )
    return Diagnosis(
        root=top.node,
        confidence=float(top.confidence),
        hypotheses=[
            {
                "node": r.node,
                "confidence": round(r.confidence, 4),
                "score": round(r.score, 6),
                "evidence": [evidence_json(e, times) for e in r.evidence],
            }
            for r in result.ranking[:KEEP]
        ],
        onset_ts=float(times[fault_row]),
        summary=summary(result, times),
        nodes=len(nodes),
        series=len(series),
        cascade_path=result.cascade_path,
        settled=settled,
    )
