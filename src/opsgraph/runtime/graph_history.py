"""Graph windows from an estate's own recorded metrics (the store), for the self-supervised
graph model of a real estate: no labels, only the neighbourhood structure of its normal.

Samples of different series rarely share timestamps (scrapes drift), so they are laid on one
grid whose step is the median sampling interval; a cell keeps the last sample that falls in
it. The last `span_s` of history is read, at most `max_nodes` resources (spread evenly over
the sorted ids when there are more).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import SIGNALS
from opsgraph.core.models import Dependency
from opsgraph.models.gnn.features import WINDOW_ROWS, GraphWindow
from opsgraph.models.gnn.training import windows_from_table
from opsgraph.store import Store

#: History read for training, and the most resources taken.
SPAN_S = 2 * 86_400.0
MAX_NODES = 2_000


def recorded_span_s(store: Store) -> float:
    """Seconds between the oldest and the newest recorded sample (0 with none)."""
    first, last = store.first_sample_ts(), store.last_sample_ts()
    return 0.0 if first is None or last is None else last - first


def recorded_windows(
    store: Store,
    dependencies: Sequence[Dependency],
    *,
    span_s: float = SPAN_S,
    max_nodes: int = MAX_NODES,
) -> tuple[list[GraphWindow], dict[str, Any]]:
    """Sliding graph windows over the last `span_s` of the store's samples of the five
    signals, with the dependency graph among the resources read; and what they came from."""
    last = store.last_sample_ts()
    if last is None:
        raise InvalidInputError("store", "no samples recorded yet")
    ids = sorted(r.id for r in store.list_resources())
    if len(ids) > max_nodes:
        ids = [ids[int(i)] for i in np.linspace(0, len(ids) - 1, max_nodes)]
    start = last - span_s
    series: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    for rid in ids:
        recorded = store.read_samples(
            rid, metrics=list(SIGNALS), start=start, end=last, limit=1_000_000
        )
        for metric, (times, vals) in recorded.items():
            if len(times) >= 2:
                series[(rid, metric)] = (
                    np.asarray(times, dtype=np.float64),
                    np.asarray(vals, dtype=np.float64),
                )
    if not series:
        raise InvalidInputError(
            "store", f"no resource has two samples of {', '.join(SIGNALS)} in the last {span_s:g} s"
        )
    step = float(np.median([np.median(np.diff(t)) for t, _ in series.values()]))
    if not step > 0:
        raise InvalidInputError("store", "samples share one timestamp: no sampling interval")
    t0 = min(float(t[0]) for t, _ in series.values())
    rows = round((last - t0) / step) + 1
    values = np.full((rows, len(series)), np.nan)
    for j, (stamps, vs) in enumerate(series.values()):
        cells = np.clip(np.round((stamps - t0) / step).astype(np.int64), 0, rows - 1)
        values[cells, j] = vs  # a later sample in the same cell overwrites an earlier one
    filled = np.isfinite(values).any(axis=1)
    values = values[filled]
    if values.shape[0] < WINDOW_ROWS:
        raise InvalidInputError(
            "store", f"needs at least {WINDOW_ROWS} sampling steps, has {values.shape[0]}"
        )
    keys = list(series)
    nodes = {n for n, _ in keys}
    edges = [(d.source, d.target) for d in dependencies if d.source in nodes and d.target in nodes]
    windows = windows_from_table([n for n, _ in keys], [m for _, m in keys], values, edges)
    info = {
        "source": "store",
        "store": store.dialect,
        "nodes": len(nodes),
        "series": len(keys),
        "edges": len(edges),
        "rows": int(values.shape[0]),
        "step_s": step,
        "start_ts": t0,
        "end_ts": last,
        "windows": len(windows),
    }
    return windows, info
