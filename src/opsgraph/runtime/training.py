"""Training data of the graph models from the simulated cloud, and the plan of a training run.

Each incident injects one fault on a random node that accepts it; windows taken while it runs
label every node the fault reached (its ground truth) as anomalous. Windows taken between
incidents are all normal, and they alone train the self-supervised mode. The held-out set is
built from topologies (sizes and seeds) not used in training, and it holds fault kinds the
supervised models never saw; metrics are reported on all of it and on the unseen kinds alone.

It composes the simulator with the models' window type, so it lives with the composition root.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import SIGNALS
from opsgraph.models.gnn.dataset import LabelledWindows
from opsgraph.models.gnn.features import RECENT_ROWS, WINDOW_ROWS, BoolArray, GraphWindow
from opsgraph.sim import CORE_FAULT_KINDS, FaultKind, SimulatedCloud

#: Steps each fault lasts, and the steps after its start at which windows are taken.
FAULT_STEPS = 8


SAMPLE_AT = (RECENT_ROWS, 6)


#: Steps between incidents: the next window's normal rows hold none of the last fault.
SETTLE_STEPS = WINDOW_ROWS


def graph_edges(sim: SimulatedCloud) -> np.ndarray:
    index = {r: i for i, r in enumerate(sim.resource_ids)}
    pairs = [(index[d.source], index[d.target]) for d in sim.dependencies]
    return np.asarray(pairs, dtype=np.int64).T.reshape(2, -1)


def sim_windows(
    resources: int,
    seed: int,
    *,
    incidents: int,
    fault_kinds: Sequence[FaultKind | str] | None = None,
    normal_every: int = 1,
) -> LabelledWindows:
    """`incidents` faults cycling `fault_kinds` (all by default) on one generated estate, with
    a normal window before each `normal_every`-th incident."""
    kinds = [FaultKind(k) for k in (fault_kinds or list(CORE_FAULT_KINDS))]
    if not kinds:
        raise InvalidInputError("fault_kinds", "needs at least one fault kind")
    sim = SimulatedCloud.generate(resources, seed=seed, start_ts=1_750_000_000.0)
    ids = list(sim.resource_ids)
    kind_of = {r.id: r.kind.value for r in sim.resources}
    node_kinds = [kind_of[i] for i in ids]
    edges = graph_edges(sim)
    cols = [sim.metrics.index(s) for s in SIGNALS]
    rows: deque[np.ndarray] = deque(maxlen=WINDOW_ROWS)
    rng = random.Random(seed)
    out = LabelledWindows()

    def advance(steps: int) -> None:
        for _ in range(steps):
            rows.append(sim.step().values[:, cols])

    def take(labels: BoolArray, kind: str) -> None:
        out.windows.append(GraphWindow(ids, np.stack(list(rows)), edges=edges, kinds=node_kinds))
        out.labels.append(labels)
        out.kinds.append(kind)

    advance(WINDOW_ROWS)
    for n in range(incidents):
        if n % normal_every == 0:
            take(np.zeros(len(ids), dtype=bool), "")
        kind = kinds[n % len(kinds)]
        record = sim.inject_first(
            kind, rng.sample(ids, k=len(ids)), duration_s=FAULT_STEPS * sim.step_s
        )
        if record is None:
            continue
        hit = set(record.affected)
        labels = np.array([i in hit for i in ids])
        done = 0
        for at in SAMPLE_AT:
            advance(at - done)
            done = at
            take(labels, kind.value)
        advance(FAULT_STEPS - done + SETTLE_STEPS)
    return out


#: (resources, seed) of the estates trained on and of the held-out estates.
TRAIN_TOPOLOGIES: tuple[tuple[int, int], ...] = ((40, 1), (80, 2), (120, 3), (60, 4))


HELD_OUT_TOPOLOGIES: tuple[tuple[int, int], ...] = ((70, 11), (150, 12))


#: Fault kinds kept out of supervised training, to see whether what was learned transfers.
UNSEEN_KINDS: tuple[str, ...] = (FaultKind.DISK_FULL.value, FaultKind.MISCONFIGURATION.value)


@dataclass(frozen=True, slots=True)
class Plan:
    """Which simulated data a run trains and evaluates on."""

    incidents: int = 48
    train_topologies: tuple[tuple[int, int], ...] = TRAIN_TOPOLOGIES
    held_out_topologies: tuple[tuple[int, int], ...] = HELD_OUT_TOPOLOGIES
    unseen_kinds: tuple[str, ...] = UNSEEN_KINDS

    @property
    def seen_kinds(self) -> list[str]:
        return [k.value for k in CORE_FAULT_KINDS if k.value not in self.unseen_kinds]

    def describe(self) -> dict[str, Any]:
        return {
            "source": "simulated cloud",
            "incidents_per_topology": self.incidents,
            "train_topologies": [list(t) for t in self.train_topologies],
            "held_out_topologies": [list(t) for t in self.held_out_topologies],
            "train_fault_kinds": self.seen_kinds,
            "unseen_fault_kinds": list(self.unseen_kinds),
        }


def build(
    topologies: Iterable[tuple[int, int]], incidents: int, kinds: Sequence[str] | None
) -> LabelledWindows:
    out = LabelledWindows()
    for resources, seed in topologies:
        out.extend(sim_windows(resources, seed, incidents=incidents, fault_kinds=kinds))
    return out


def training_set(plan: Plan) -> LabelledWindows:
    return build(plan.train_topologies, plan.incidents, plan.seen_kinds)


def held_out_set(plan: Plan) -> LabelledWindows:
    return build(plan.held_out_topologies, plan.incidents, None)
