"""`opsgraph bench rca`: root-cause accuracy on simulated incidents and on real cases.

Simulated: for each topology, faults of every kind one after another on random nodes; each
incident's metrics (30 normal steps, then 10 under fault) go through the root-cause ranking
with the topology's dependency edges and the true onset. Real (rca_data.py): Sock Shop, Nezha
Train-Ticket and PetShop cases, each ranked twice: with the onset estimated from the metrics
(explain/onset.py; the headline) and with the true onset ("<set>@true"); PetShop once more with
the violated-SLO hint ("<set>+slo": opsgraph weighs each node by how its metrics move with the
SLO). Every case is also ranked by the baselines: BARO (rca_baro.py; with its own change-point
onset in the estimated groups, handed the true onset in the others), random order, the most
anomalous node (the same robust evidence, no graph, no timing) and N-sigma (largest deviation
in standard deviations from the normal mean). Scores: top-1, top-3 and avg@5, overall and per
fault kind.
"""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from opsgraph.bench.rca_baro import baro_abs_ranker, baro_ranker, bocpd_onset, robust_scorer
from opsgraph.bench.rca_case import Case, Ranked, Ranker
from opsgraph.bench.rca_data import detect_layout, real_cases
from opsgraph.core.models import DependencyKind
from opsgraph.explain.evidence import score_metrics, slo_affinity
from opsgraph.explain.onset import estimate_onset
from opsgraph.explain.rank import rank_root_causes
from opsgraph.sim import CORE_FAULT_KINDS, SimulatedCloud


def opsgraph_ranker(case: Case) -> Ranked:
    evidence = score_metrics(
        case.nodes, case.metrics, case.values, case.fault_row, short_history=True
    )
    prior = None
    if case.slo:
        prior = slo_affinity(case.nodes, case.values[case.search_from :], case.slo)
    result = rank_root_causes(
        evidence,
        nodes=sorted(set(case.nodes)),
        edges=case.edges,
        members=case.members,
        fault_row=case.fault_row,
        prior=prior,
    )
    return Ranked(
        [r.node for r in result.ranking], set(result.cascade_nodes), result.ranking[0].confidence
    )


def most_anomalous_ranker(case: Case) -> Ranked:
    best: dict[str, float] = {}
    for e in score_metrics(
        case.nodes, case.metrics, case.values, case.fault_row, short_history=True
    ):
        best[e.node] = max(best.get(e.node, 0.0), e.score)
    return Ranked(sorted(set(case.nodes), key=lambda v: (-best.get(v, 0.0), v)))


def nsigma_ranker(case: Case) -> Ranked:
    normal, after = case.values[: case.fault_row], case.values[case.fault_row :]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
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
    kinds = list(CORE_FAULT_KINDS)
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


def _score(cases: list[Case], ranker: Ranker) -> dict[str, Any]:
    top1 = top3 = 0
    avg5 = 0.0
    precision: list[float] = []
    recall: list[float] = []
    seconds: list[float] = []
    confidence: list[float] = []
    by_kind: dict[str, list[float]] = {}
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
        tally = by_kind.setdefault(case.kind, [0, 0, 0.0, 0])
        tally[0] += pos < 1
        tally[1] += pos < 3
        tally[2] += sum(pos < k for k in range(1, 6)) / 5
        tally[3] += 1
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
        "top1_by_kind": {k: round(t[0] / t[3], 3) for k, t in sorted(by_kind.items())},
        "by_kind": {
            k: {
                "cases": int(t[3]),
                "top1": round(t[0] / t[3], 3),
                "top3": round(t[1] / t[3], 3),
                "avg5": round(t[2] / t[3], 3),
            }
            for k, t in sorted(by_kind.items())
        },
        "mean_seconds": round(float(np.mean(seconds)), 4) if seconds else None,
        "max_seconds": round(float(np.max(seconds)), 4) if seconds else None,
    }


def true_onset_baro(case: Case) -> Ranked:
    """BARO's RobustScorer handed the true onset (the rows of `--onset true`)."""
    return robust_scorer(case, case.fault_row)


def true_onset_baro_abs(case: Case) -> Ranked:
    return robust_scorer(case, case.fault_row, absolute=True)


def rankers(seed: int = 0, *, onset: str = "true") -> dict[str, Ranker]:
    """Every ranker of a group. With onset "estimated" the cases carry opsgraph's estimate and
    BARO finds its own (BOCPD); with "true" every ranker, BARO's RobustScorer included, gets the
    true onset."""
    return {
        "opsgraph": opsgraph_ranker,
        "baro": baro_ranker if onset == "estimated" else true_onset_baro,
        "baro_abs": baro_abs_ranker if onset == "estimated" else true_onset_baro_abs,
        "most_anomalous": most_anomalous_ranker,
        "nsigma": nsigma_ranker,
        "random": random_ranker(seed),
    }


def estimated(cases: list[Case]) -> list[Case]:
    """The cases with their onset replaced by opsgraph's estimate (explain/onset.py), searched
    from each case's own recording on (`Case.search_from`)."""
    return [
        replace(c, fault_row=c.search_from + estimate_onset(c.values[c.search_from :]))
        for c in cases
    ]


def onset_errors(cases: list[Case]) -> dict[str, Any]:
    """How far opsgraph's and BARO's onsets fall from the truth, in rows (+ late, - early)."""
    out: dict[str, Any] = {}
    ours = [e.fault_row - c.fault_row for e, c in zip(estimated(cases), cases, strict=True)]
    baro = [bocpd_onset(c.values, c.search_from) - c.fault_row for c in cases]
    for name, errors in (("opsgraph", ours), ("baro", baro)):
        err = np.array(errors, dtype=float)
        out[name] = {
            "exact": round(float(np.mean(err == 0)), 3) if err.size else None,
            "within_1": round(float(np.mean(np.abs(err) <= 1)), 3) if err.size else None,
            "late": round(float(np.mean(err > 0)), 3) if err.size else None,
            "median_abs_rows": float(np.median(np.abs(err))) if err.size else None,
        }
    return out


def run_rca_bench(
    *,
    topologies: list[tuple[int, int, int]] | None = None,
    data: Path | list[Path] | None = None,
    onsets: tuple[str, ...] = ("estimated", "true"),
) -> dict[str, Any]:
    """topologies: (resources, seed, incidents), ranked with the true onset; `data`: folders of
    real cases (Sock Shop, Nezha or PetShop layout, rca_data.detect_layout), each ranked with
    every onset of `onsets`. A real set's group is named after its folder, "<name>@true" with
    the true onset; PetShop is ranked again with the violated-SLO hint as "<name>+slo"."""
    started = time.perf_counter()
    folders = [data] if isinstance(data, Path) else list(data or [])
    groups: dict[str, tuple[list[Case], str]] = {}
    sets: dict[str, dict[str, Any]] = {}
    for folder in folders:
        layout = detect_layout(folder)
        variants = [(folder.name, False)]
        if layout == "petshop":
            variants.append((f"{folder.name}+slo", True))
        for name, hint in variants:
            cases = real_cases(folder, slo_hint=hint)
            for onset in onsets:
                group = name if onset == "estimated" else f"{name}@true"
                groups[group] = (estimated(cases) if onset == "estimated" else cases, onset)
                sets[group] = {
                    "set": folder.name,
                    "layout": layout,
                    "onset": onset,
                    "slo_hint": hint,
                }
            if not hint and onsets:
                sets[name if "estimated" in onsets else f"{name}@true"]["onset_error"] = (
                    onset_errors(cases)
                )
    for resources, seed, incidents in topologies or []:
        groups[f"sim-{resources}"] = (list(sim_cases(resources, seed, incidents)), "true")
        sets[f"sim-{resources}"] = {"set": f"sim-{resources}", "layout": "sim", "onset": "true"}
    results = {
        group: {name: _score(cases, ranker) for name, ranker in rankers(onset=onset).items()}
        for group, (cases, onset) in groups.items()
    }
    return {
        "benchmark": "rca",
        "groups": results,
        "sets": sets,
        "seconds": round(time.perf_counter() - started, 1),
    }
