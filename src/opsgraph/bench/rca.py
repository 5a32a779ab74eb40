"""`opsgraph bench rca`: root-cause accuracy on simulated incidents and on real Sock Shop cases.

Simulated: for each topology, faults of every kind one after another on random nodes; each
incident's metrics (30 normal steps, then 10 under fault) go through the root-cause ranking
with the topology's dependency edges. Real: the 50 Sock Shop cases (normal rows, then
anomalous rows; no graph). Every case is also ranked by three baselines: random order, the
most anomalous node (largest robust deviation, no graph, no timing) and N-sigma (largest
deviation in standard deviations from the normal mean).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import DependencyKind
from opsgraph.explain.evidence import FloatArray, score_metrics
from opsgraph.explain.rank import rank_root_causes
from opsgraph.sim import FaultKind, SimulatedCloud
from opsgraph.sources.case_files import read_metrics


@dataclass(slots=True)
class Case:
    name: str
    kind: str
    nodes: list[str]  # per column
    metrics: list[str]  # per column
    values: FloatArray  # [rows, columns]
    fault_row: int
    edges: list[tuple[str, str]]
    members: list[tuple[str, str]]
    root: str
    affected: set[str] | None  # ground-truth cascade, when known


@dataclass(slots=True)
class Ranked:
    order: list[str]
    cascade: set[str] | None = None
    confidence: float | None = None  # of the first hypothesis


Ranker = Callable[[Case], Ranked]


def opsgraph_ranker(case: Case) -> Ranked:
    evidence = score_metrics(case.nodes, case.metrics, case.values, case.fault_row)
    result = rank_root_causes(
        evidence,
        nodes=sorted(set(case.nodes)),
        edges=case.edges,
        members=case.members,
        fault_row=case.fault_row,
    )
    return Ranked(
        [r.node for r in result.ranking], set(result.cascade_nodes), result.ranking[0].confidence
    )


def most_anomalous_ranker(case: Case) -> Ranked:
    best: dict[str, float] = {}
    for e in score_metrics(case.nodes, case.metrics, case.values, case.fault_row):
        best[e.node] = max(best.get(e.node, 0.0), e.score)
    return Ranked(sorted(set(case.nodes), key=lambda v: (-best.get(v, 0.0), v)))


def nsigma_ranker(case: Case) -> Ranked:
    normal, after = case.values[: case.fault_row], case.values[case.fault_row :]
    with np.errstate(all="ignore"):
        mean, sd = np.nanmean(normal, axis=0), np.nanstd(normal, axis=0)
        z = np.nanmax(np.abs(after - mean) / np.where(sd > 0, sd, 1e-9), axis=0)
    best: dict[str, float] = {}
    for node, score in zip(case.nodes, np.nan_to_num(z, nan=0.0).tolist(), strict=True):
        best[node] = max(best.get(node, 0.0), score)
    return Ranked(sorted(set(case.nodes), key=lambda v: (-best[v], v)))


def random_ranker(seed: int) -> Ranker:
    rng = random.Random(seed)

    def rank(case: Case) -> Ranked:
        order = sorted(set(case.nodes))
        rng.shuffle(order)
        return Ranked(order)

    return rank


def sim_cases(
    resources: int,
    seed: int,
    incidents: int,
    *,
    normal_steps: int = 30,
    fault_steps: int = 10,
    settle_steps: int = 20,
) -> Iterator[Case]:
    """Incidents cycling every fault kind on random nodes that accept it."""
    sim = SimulatedCloud.generate(resources, seed=seed, start_ts=1_750_000_000.0)
    edges = [(d.source, d.target) for d in sim.dependencies if d.kind is DependencyKind.CALLS]
    members = [(d.source, d.target) for d in sim.dependencies if d.kind is DependencyKind.MEMBER]
    ids = [r.id for r in sim.resources]
    rng = random.Random(seed)
    kinds = list(FaultKind)
    frames = [sim.step() for _ in range(normal_steps)]
    metrics = list(frames[0].metrics)
    columns_nodes = [r for r in frames[0].resource_ids for _ in metrics]
    columns_metrics = [m for _ in frames[0].resource_ids for m in metrics]
    for n in range(incidents):
        kind = kinds[n % len(kinds)]
        record = sim.inject_first(
            kind, rng.sample(ids, k=len(ids)), duration_s=fault_steps * sim.step_s
        )
        if record is None:
            continue
        after = [sim.step() for _ in range(fault_steps)]
        window = frames[-normal_steps:] + after
        values = np.stack([f.values.reshape(-1) for f in window])
        yield Case(
            name=f"sim-{resources}-{n}",
            kind=kind.value,
            nodes=columns_nodes,
            metrics=columns_metrics,
            values=values,
            fault_row=normal_steps,
            edges=edges,
            members=members,
            root=record.root,
            affected=set(record.affected),
        )
        frames = [sim.step() for _ in range(max(settle_steps, normal_steps))]


def sockshop_cases(root: Path) -> Iterator[Case]:
    """The Sock Shop layout: <service>-<fault>/<run>/normal.csv and anomalous.csv."""
    found = sorted(p for p in root.glob("*/*") if (p / "anomalous.csv").is_file())
    if not found:
        raise InvalidInputError("data", f"no <case>/<run>/anomalous.csv under {root}")
    for run in found:
        service, _, fault = run.parent.name.rpartition("-")
        normal = read_metrics(run / "normal.csv")
        table = normal.concat(read_metrics(run / "anomalous.csv"))
        yield Case(
            name=f"{run.parent.name}/{run.name}",
            kind=fault,
            nodes=table.nodes,
            metrics=table.metrics,
            values=table.values,
            fault_row=normal.values.shape[0],
            edges=[],
            members=[],
            root=service,
            affected=None,
        )


def _score(cases: list[Case], ranker: Ranker) -> dict[str, Any]:
    top1 = top3 = 0
    avg5 = 0.0
    precision: list[float] = []
    recall: list[float] = []
    seconds: list[float] = []
    confidence: list[float] = []
    by_kind: dict[str, list[int]] = {}
    for case in cases:
        start = time.perf_counter()
        ranked = ranker(case)
        seconds.append(time.perf_counter() - start)
        order, cascade = ranked.order, ranked.cascade
        if ranked.confidence is not None:
            confidence.append(ranked.confidence)
        pos = order.index(case.root) if case.root in order else len(order)
        top1 += pos < 1
        top3 += pos < 3
        avg5 += sum(pos < k for k in range(1, 6)) / 5
        tally = by_kind.setdefault(case.kind, [0, 0])
        tally[0] += pos < 1
        tally[1] += 1
        if cascade is not None and case.affected is not None:
            hit = len(cascade & case.affected)
            precision.append(hit / len(cascade) if cascade else 0.0)
            recall.append(hit / len(case.affected) if case.affected else 0.0)
    n = max(len(cases), 1)
    return {
        "cases": len(cases),
        "top1": round(top1 / n, 4),
        "top3": round(top3 / n, 4),
        "avg5": round(avg5 / n, 4),
        "cascade_precision": round(float(np.mean(precision)), 4) if precision else None,
        "cascade_recall": round(float(np.mean(recall)), 4) if recall else None,
        "mean_top1_confidence": round(float(np.mean(confidence)), 4) if confidence else None,
        "top1_by_kind": {k: round(h / t, 3) for k, (h, t) in sorted(by_kind.items())},
        "mean_seconds": round(float(np.mean(seconds)), 4) if seconds else None,
        "max_seconds": round(float(np.max(seconds)), 4) if seconds else None,
    }


def rankers(seed: int = 0) -> dict[str, Ranker]:
    return {
        "opsgraph": opsgraph_ranker,
        "most_anomalous": most_anomalous_ranker,
        "nsigma": nsigma_ranker,
        "random": random_ranker(seed),
    }


def run_rca_bench(
    *,
    topologies: list[tuple[int, int, int]] | None = None,
    data: Path | None = None,
) -> dict[str, Any]:
    """topologies: (resources, seed, incidents); with `data`, the Sock Shop cases instead."""
    started = time.perf_counter()
    groups: dict[str, list[Case]] = {}
    if data is not None:
        groups[data.name] = list(sockshop_cases(data))
    for resources, seed, incidents in topologies or []:
        groups[f"sim-{resources}"] = list(sim_cases(resources, seed, incidents))
    results = {
        group: {name: _score(cases, ranker) for name, ranker in rankers().items()}
        for group, cases in groups.items()
    }
    return {
        "benchmark": "rca",
        "groups": results,
        "seconds": round(time.perf_counter() - started, 1),
    }
