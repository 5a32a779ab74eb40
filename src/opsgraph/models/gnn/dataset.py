"""Labelled graph windows from the simulated cloud, for training and held-out evaluation.

Each incident injects one fault on a random node that accepts it; windows taken while it runs
label every node the fault reached (its ground truth) as anomalous. Windows taken between
incidents are all normal, and they alone train the self-supervised mode.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import SIGNALS
from opsgraph.models.gnn.features import RECENT_ROWS, WINDOW_ROWS, BoolArray, GraphWindow
from opsgraph.sim import FaultKind, SimulatedCloud

#: Steps each fault lasts, and the steps after its start at which windows are taken.
FAULT_STEPS = 8
SAMPLE_AT = (RECENT_ROWS, 6)
#: Steps between incidents: the next window's normal rows hold none of the last fault.
SETTLE_STEPS = WINDOW_ROWS


@dataclass(slots=True)
class LabelledWindows:
    windows: list[GraphWindow] = field(default_factory=list)
    labels: list[BoolArray] = field(default_factory=list)
    #: Fault kind per window ("" for a normal window).
    kinds: list[str] = field(default_factory=list)

    def extend(self, other: LabelledWindows) -> None:
        self.windows += other.windows
        self.labels += other.labels
        self.kinds += other.kinds

    def __len__(self) -> int:
        return len(self.windows)

    def only(self, kinds: Iterable[str]) -> LabelledWindows:
        keep = set(kinds)
        out = LabelledWindows()
        for w, y, k in zip(self.windows, self.labels, self.kinds, strict=True):
            if k in keep:
                out.windows.append(w)
                out.labels.append(y)
                out.kinds.append(k)
        return out


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
    kinds = [FaultKind(k) for k in (fault_kinds or list(FaultKind))]
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
