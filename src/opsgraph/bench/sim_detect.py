"""`opsgraph bench sim-detect`: detection quality on simulated incidents with ground truth.

For each topology and detector: a fault-free stretch (false alarms per node-day), then faults
of every kind one after another, each with quiet time after it. A node counts as detected when
an anomaly opens on it during the fault (or within `grace_steps` after); node-level precision,
recall and F1 compare the alerted nodes of each incident with its ground-truth affected nodes,
and time to detect is from fault start to the first anomaly on any affected node.
"""

from __future__ import annotations

import os
import platform
import random
import time
from typing import Any

import numpy as np

from opsgraph import __version__
from opsgraph.core.errors import InvalidInputError
from opsgraph.detect.settings import DetectSettings
from opsgraph.ingest.stream import build_ingestor
from opsgraph.sim import FaultKind, SimulatedCloud


def _one_run(
    *,
    detector: str,
    resources: int,
    seed: int,
    incidents: int,
    quiet_steps: int,
    fault_steps: int,
    grace_steps: int,
) -> dict[str, Any]:
    sim = SimulatedCloud.generate(resources, seed=seed, start_ts=1_750_000_000.0)
    step = sim.step_s
    ingestor = build_ingestor(DetectSettings(), store=None, detector=detector)
    ingestor.add_resources(sim.resources)
    warm = DetectSettings().window + 10
    for _ in range(warm):
        ingestor.ingest_frame(sim.step())
    # A fault-free stretch: every anomaly here is a false alarm.
    quiet_alarms = 0
    for _ in range(quiet_steps):
        quiet_alarms += len(ingestor.ingest_frame(sim.step()).opened)
    node_days = resources * quiet_steps * step / 86_400
    rng = random.Random(seed)
    kinds = list(FaultKind)
    ids = [r.id for r in sim.resources]
    tp = fp = fn = 0
    delays: list[float] = []
    detected = 0
    by_kind: dict[str, list[int]] = {k.value: [0, 0] for k in kinds}
    for n in range(incidents):
        kind = kinds[n % len(kinds)]
        record = None
        for node in rng.sample(ids, k=len(ids)):
            try:
                record = sim.inject(kind, node, duration_s=fault_steps * step)
                break
            except InvalidInputError:
                continue
        if record is None:
            continue
        affected = set(record.affected)
        alerted: dict[str, float] = {}
        for _ in range(fault_steps + grace_steps):
            for anomaly in ingestor.ingest_frame(sim.step()).opened:
                alerted.setdefault(anomaly.resource_id, anomaly.start_ts)
        hits = affected & set(alerted)
        tp += len(hits)
        fp += len(set(alerted) - affected)
        fn += len(affected - hits)
        by_kind[kind.value][1] += 1
        if hits:
            detected += 1
            by_kind[kind.value][0] += 1
            delays.append((min(alerted[h] for h in hits) - record.start_ts) / step)
        # Quiet time so the next incident starts from a healthy estate.
        for _ in range(grace_steps):
            ingestor.ingest_frame(sim.step())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "incidents": sum(v[1] for v in by_kind.values()),
        "detected": detected,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "delays": delays,
        "by_kind": by_kind,
        "quiet_alarms": quiet_alarms,
        "node_days": node_days,
    }


def run_sim_detect_bench(
    *,
    detectors: list[str],
    topologies: list[tuple[int, int]],
    incidents: int = 72,
    quiet_steps: int = 720,
    fault_steps: int = 10,
    grace_steps: int = 15,
) -> dict[str, Any]:
    """topologies: (resources, seed) pairs; incidents per topology cycle every fault kind."""
    started = time.perf_counter()
    results = []
    for detector in detectors:
        runs = [
            _one_run(
                detector=detector,
                resources=n,
                seed=seed,
                incidents=incidents,
                quiet_steps=quiet_steps,
                fault_steps=fault_steps,
                grace_steps=grace_steps,
            )
            for n, seed in topologies
        ]
        tp, fp, fn = (sum(r[k] for r in runs) for k in ("tp", "fp", "fn"))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        delays = [d for r in runs for d in r["delays"]]
        by_kind: dict[str, list[int]] = {}
        for r in runs:
            for kind, (hit, total) in r["by_kind"].items():
                acc = by_kind.setdefault(kind, [0, 0])
                acc[0] += hit
                acc[1] += total
        results.append(
            {
                "detector": detector,
                "incidents": sum(r["incidents"] for r in runs),
                "incidents_detected": sum(r["detected"] for r in runs),
                "node_precision": round(precision, 4),
                "node_recall": round(recall, 4),
                "node_f1": round(
                    2 * precision * recall / (precision + recall) if precision + recall else 0.0,
                    4,
                ),
                "median_steps_to_detect": float(np.median(delays)) if delays else None,
                "false_alarms_per_node_day": round(
                    sum(r["quiet_alarms"] for r in runs) / sum(r["node_days"] for r in runs), 4
                ),
                "detected_by_kind": {k: f"{h}/{t}" for k, (h, t) in sorted(by_kind.items())},
            }
        )
    return {
        "benchmark": "sim-detect",
        "opsgraph": __version__,
        "topologies": [{"resources": n, "seed": s} for n, s in topologies],
        "fault_steps": fault_steps,
        "grace_steps": grace_steps,
        "quiet_steps": quiet_steps,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "seconds": round(time.perf_counter() - started, 1),
        "results": results,
    }
