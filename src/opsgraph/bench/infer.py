"""`opsgraph bench infer`: how well metric correlation recovers a simulated topology.

The simulator runs fault-free; dependencies are inferred from its metrics alone and compared,
as undirected pairs, with the true calls and memberships. Chance precision is the share of
node pairs that are true edges.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from opsgraph.sim import SimulatedCloud
from opsgraph.sources.inferred import infer_edges


def run_infer_bench(
    resources: int = 50, steps: int = 720, seed: int = 4, per_node: tuple[int, ...] = (2, 3, 5)
) -> dict[str, Any]:
    started = time.perf_counter()
    sim = SimulatedCloud.generate(resources, seed=seed, start_ts=1_750_000_000.0)
    frames = [sim.step() for _ in range(steps)]
    metrics = list(frames[0].metrics)
    nodes = [r for r in frames[0].resource_ids for _ in metrics]
    columns = [m for _ in frames[0].resource_ids for m in metrics]
    values = np.stack([f.values.reshape(-1) for f in frames])
    truth = {frozenset((d.source, d.target)) for d in sim.dependencies}
    pairs = resources * (resources - 1) // 2
    rows = []
    for k in per_node:
        found = {
            frozenset((e.source, e.target)) for e in infer_edges(nodes, columns, values, per_node=k)
        }
        hit = len(found & truth)
        rows.append(
            {
                "per_node": k,
                "edges": len(found),
                "precision": round(hit / max(len(found), 1), 4),
                "recall": round(hit / max(len(truth), 1), 4),
            }
        )
    return {
        "benchmark": "infer",
        "resources": resources,
        "steps": steps,
        "seed": seed,
        "true_edges": len(truth),
        "chance_precision": round(len(truth) / max(pairs, 1), 4),
        "results": rows,
        "seconds": round(time.perf_counter() - started, 1),
    }
