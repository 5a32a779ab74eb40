"""`opsgraph bench sim-detect`: detection quality on simulated incidents with ground truth.

For each topology and detector: a fault-free stretch (false alarms per node-day), then faults
of every kind one after another, each with quiet time after it. Samples go through the live
path: the configured Ingestor, then the alert lifecycle (dedup, grouping into incidents) on a
SQLite store, as `serve` runs them. A node counts as detected when an anomaly opens on it
during the fault (or within `grace_steps` after); node-level precision, recall and F1 compare
the alerted nodes of each incident with its ground-truth affected nodes, and time to detect is
from fault start to the first anomaly on any affected node. A page is an incident opened (what
notifications announce): pages per fault, the share of faults paged within 3 steps and false
pages per 100 nodes per day say whether one fault pages once.
"""

from __future__ import annotations

import os
import platform
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from opsgraph import __version__
from opsgraph.alerts.lifecycle import AlertLifecycle
from opsgraph.alerts.settings import AlertSettings
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Incident
from opsgraph.detect.settings import DetectSettings
from opsgraph.ingest.stream import IngestResult, build_ingestor
from opsgraph.sim import CORE_FAULT_KINDS, SimulatedCloud
from opsgraph.store import Store

#: A fault counts as paged in time when its first page comes within this many steps.
PAGE_WITHIN_STEPS = 3


@contextmanager
def _scratch_store() -> Iterator[Store]:
    """A SQLite store of its own, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="opsgraph-sim-detect-") as folder:
        store = Store(f"sqlite:///{Path(folder) / 'bench.db'}")
        store.migrate()
        try:
            yield store
        finally:
            store.close()


def _one_run(
    store: Store,
    *,
    detector: str,
    resources: int,
    seed: int,
    incidents: int,
    quiet_steps: int,
    fault_steps: int,
    grace_steps: int,
    warm_steps: int,
    settings: DetectSettings,
    alerts: AlertSettings,
    intensity: float = 1.0,
) -> dict[str, Any]:
    sim = SimulatedCloud.generate(resources, seed=seed, start_ts=1_750_000_000.0)
    step = sim.step_s
    store.upsert_topology(sim.resources, sim.dependencies)
    ingestor = build_ingestor(settings, store=store, persist_samples=False, detector=detector)
    ingestor.add_resources(sim.resources)
    # As the demo does (runtime/simulation.py): the estate's business calendar is known.
    ingestor.set_calendar([*settings.calendar, *sim.calendar.events])
    by_id = {r.id: r for r in sim.resources}
    lifecycle = AlertLifecycle(
        store,
        alerts,
        resources=lambda: by_id,
        dependencies=lambda: sim.dependencies,
        publish=lambda kind, data: None,
    )
    pages: list[Incident] = []
    lifecycle.on_incident.append(lambda i, kind: pages.append(i) if kind == "opened" else None)

    def run_step() -> IngestResult:
        result = ingestor.ingest_frame(sim.step())
        lifecycle.process(result.opened, result.closed, result.updated)
        return result

    for _ in range(warm_steps):
        run_step()
    # A fault-free stretch: every anomaly and every page here is false.
    quiet_alarms = 0
    pages.clear()
    for _ in range(quiet_steps):
        quiet_alarms += len(run_step().opened)
    quiet_pages = len(pages)
    node_days = resources * quiet_steps * step / 86_400
    rng = random.Random(seed)
    kinds = list(CORE_FAULT_KINDS)
    ids = [r.id for r in sim.resources]
    tp = fp = fn = 0
    delays: list[float] = []
    fault_pages: list[int] = []
    paged_in_time = 0
    detected = 0
    by_kind: dict[str, list[int]] = {k.value: [0, 0] for k in kinds}
    paged_by_kind: dict[str, int] = {k.value: 0 for k in kinds}
    for n in range(incidents):
        kind = kinds[n % len(kinds)]
        record = None
        for node in rng.sample(ids, k=len(ids)):
            try:
                record = sim.inject(kind, node, duration_s=fault_steps * step, intensity=intensity)
                break
            except InvalidInputError:
                continue
        if record is None:
            continue
        affected = set(record.affected)
        alerted: dict[str, float] = {}
        pages.clear()
        first_page: int | None = None
        for k in range(fault_steps + grace_steps):
            for anomaly in run_step().opened:
                alerted.setdefault(anomaly.resource_id, anomaly.start_ts)
            if pages and first_page is None:
                first_page = k
        fault_pages.append(len(pages))
        in_time = first_page is not None and first_page <= PAGE_WITHIN_STEPS
        paged_in_time += in_time
        paged_by_kind[kind.value] += in_time
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
            run_step()
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
        "paged_by_kind": paged_by_kind,
        "quiet_alarms": quiet_alarms,
        "quiet_pages": quiet_pages,
        "fault_pages": fault_pages,
        "paged_in_time": paged_in_time,
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
    warm_steps: int = 700,
    settings: DetectSettings | None = None,
    alerts: AlertSettings | None = None,
    intensity: float = 1.0,
) -> dict[str, Any]:
    """topologies: (resources, seed) pairs; incidents per topology cycle every fault kind, at
    `intensity` (1: a CPU hog burns 60 points, latency +300 ms, errors 35 %, traffic x3;
    `sim/faults.py`).
    `warm_steps` of history come first (the default ensemble's slowest member judges from
    its 600th point on; a live series has that history within 10 hours at one point a
    minute)."""
    started = time.perf_counter()
    results = []
    for detector in detectors:
        runs = []
        for n, seed in topologies:
            with _scratch_store() as store:
                runs.append(
                    _one_run(
                        store,
                        detector=detector,
                        resources=n,
                        seed=seed,
                        incidents=incidents,
                        quiet_steps=quiet_steps,
                        fault_steps=fault_steps,
                        grace_steps=grace_steps,
                        warm_steps=warm_steps,
                        settings=settings or DetectSettings(),
                        alerts=alerts or AlertSettings(),
                        intensity=intensity,
                    )
                )
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
                "paged_within_3_steps_by_kind": {
                    k: f"{sum(r['paged_by_kind'].get(k, 0) for r in runs)}/{t}"
                    for k, (_, t) in sorted(by_kind.items())
                },
                "pages_per_fault": round(
                    float(np.mean([p for r in runs for p in r["fault_pages"]])), 3
                ),
                "faults_paged_within_3_steps": round(
                    sum(r["paged_in_time"] for r in runs)
                    / max(sum(r["incidents"] for r in runs), 1),
                    4,
                ),
                "false_pages_per_100_node_days": round(
                    100 * sum(r["quiet_pages"] for r in runs) / sum(r["node_days"] for r in runs), 3
                ),
            }
        )
    return {
        "benchmark": "sim-detect",
        "opsgraph": __version__,
        "topologies": [{"resources": n, "seed": s} for n, s in topologies],
        "fault_steps": fault_steps,
        "grace_steps": grace_steps,
        "quiet_steps": quiet_steps,
        "warm_steps": warm_steps,
        "open_at": (alerts or AlertSettings()).open_at.value,
        "intensity": intensity,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "seconds": round(time.perf_counter() - started, 1),
        "results": results,
    }
