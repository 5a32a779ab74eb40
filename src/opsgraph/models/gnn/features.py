"""Node features for the graph detectors: the five health signals plus window statistics.

A GraphWindow is the recent history of every node of a graph; `node_features` turns it into
one row of FEATURES per node, relative to each node's own normal so topologies of any size and
mix of kinds share one scale.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import SIGNALS

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Rows per window the models are trained on: the node's normal, then RECENT_ROWS of "now".
WINDOW_ROWS = 20
#: Rows at the end of a window that are "now"; the rows before them are the node's normal.
RECENT_ROWS = 3
#: Fewest normal rows for a node's own baseline; with fewer, a saved healthy baseline is used.
MIN_BASELINE_ROWS = 3
#: Smallest meaningful change of each signal, so flat series do not give infinite z.
SCALE_FLOOR = np.array([0.5, 0.5, 1.0, 0.002, 1.0])
#: Signals whose level is compared on a log scale (they span orders of magnitude).
_LOG_LEVEL = np.array([False, False, True, False, True])
#: Statistics per signal, in column order: level now, robust z against the node's normal,
#: log ratio to that normal, and volatility of the recent rows.
STATS: tuple[str, ...] = ("level", "z", "ratio", "volatility")
FEATURES: tuple[str, ...] = tuple(
    s if stat == "level" else f"{s}_{stat}" for stat in STATS for s in SIGNALS
)
Z_CLIP = 50.0


@dataclass(slots=True)
class GraphWindow:
    """Recent history of a graph: values [rows, nodes, signals] in SIGNALS order, oldest
    first, and caller -> callee / group -> member edges as node-index pairs."""

    node_ids: list[str]
    values: FloatArray
    edges: IntArray = field(default_factory=lambda: np.zeros((2, 0), dtype=np.int64))
    kinds: list[str] | None = None

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float64)
        self.edges = np.asarray(self.edges, dtype=np.int64).reshape(2, -1)
        n = len(self.node_ids)
        if self.values.ndim != 3 or self.values.shape[1:] != (n, len(SIGNALS)):
            raise InvalidInputError(
                "values",
                f"expected [rows, {n} nodes, {len(SIGNALS)} signals], "
                f"got {list(self.values.shape)}",
            )
        if self.values.shape[0] < 1:
            raise InvalidInputError("values", "needs at least one row")
        if self.edges.size and (self.edges.min() < 0 or self.edges.max() >= n):
            raise InvalidInputError("edges", "an edge names a node index outside the graph")
        if self.kinds is not None and len(self.kinds) != n:
            raise InvalidInputError("kinds", f"expected {n} kinds, got {len(self.kinds)}")

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    def undirected_edges(self) -> IntArray:
        """Both directions of every edge, once each: a fault travels up and down a
        dependency. (Deduplicated through one int64 key per pair: sorting pairs along
        axis 1 is ten times slower on a 10,000-node graph.)"""
        if not self.edges.size:
            return self.edges
        src = np.concatenate([self.edges[0], self.edges[1]])
        dst = np.concatenate([self.edges[1], self.edges[0]])
        keys = np.unique((src * self.n_nodes + dst)[src != dst])
        return np.stack([keys // self.n_nodes, keys % self.n_nodes])

    def subset(self, nodes: Sequence[int]) -> GraphWindow:
        """The window restricted to `nodes` (in that order) and the edges among them."""
        order = np.asarray(nodes, dtype=np.int64)
        remap = np.full(self.n_nodes, -1, dtype=np.int64)
        remap[order] = np.arange(order.size)
        e = remap[self.edges] if self.edges.size else self.edges
        keep = (e >= 0).all(axis=0) if e.size else np.zeros(0, dtype=bool)
        return GraphWindow(
            node_ids=[self.node_ids[i] for i in order],
            values=self.values[:, order],
            edges=e[:, keep] if e.size else e,
            kinds=None if self.kinds is None else [self.kinds[i] for i in order],
        )


@dataclass(slots=True)
class Baseline:
    """A healthy node's normal per signal: median and robust scale, per kind and overall."""

    median: FloatArray
    scale: FloatArray
    by_kind: dict[str, tuple[FloatArray, FloatArray]] = field(default_factory=dict)

    def for_nodes(self, kinds: Sequence[str] | None, n: int) -> tuple[FloatArray, FloatArray]:
        med = np.tile(self.median, (n, 1))
        scale = np.tile(self.scale, (n, 1))
        for i, kind in enumerate(kinds or ()):
            if kind in self.by_kind:
                med[i], scale[i] = self.by_kind[kind]
        return med, scale

    def to_json(self) -> dict[str, object]:
        return {
            "median": self.median.tolist(),
            "scale": self.scale.tolist(),
            "by_kind": {k: [m.tolist(), s.tolist()] for k, (m, s) in self.by_kind.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Baseline:
        by_kind = data.get("by_kind") or {}
        assert isinstance(by_kind, dict)
        return cls(
            median=np.asarray(data["median"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            by_kind={
                str(k): (np.asarray(m, dtype=np.float64), np.asarray(s, dtype=np.float64))
                for k, (m, s) in by_kind.items()
            },
        )


def _nan_quiet(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


def own_baseline(window: GraphWindow) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Median and robust scale of each node's normal rows, and which nodes have enough."""
    normal = window.values[:-RECENT_ROWS] if window.values.shape[0] > RECENT_ROWS else None
    n = window.n_nodes
    if normal is None:
        nan = np.full((n, len(SIGNALS)), np.nan)
        return nan, nan.copy(), np.zeros(n, dtype=bool)
    # np.nanmedian is several times slower than np.median; most windows have no gaps.
    median = np.median if np.isfinite(normal).all() else np.nanmedian
    med = _nan_quiet(median, normal, axis=0)
    mad = _nan_quiet(median, np.abs(normal - med), axis=0)
    counts = np.isfinite(normal).sum(axis=0)
    enough = (counts >= MIN_BASELINE_ROWS).all(axis=1)
    return med, 1.4826 * mad, enough


def levels(values: FloatArray) -> FloatArray:
    """Signal values on the scale the models see: latency and requests as log1p."""
    with np.errstate(all="ignore"):
        return np.where(_LOG_LEVEL, np.log1p(np.maximum(values, 0.0)), values)


def node_normal(window: GraphWindow, healthy: Baseline | None) -> tuple[FloatArray, FloatArray]:
    """Each node's normal (median, robust scale): its own earlier rows, or the healthy
    baseline of its kind where it has too few of them."""
    med, scale, enough = own_baseline(window)
    if healthy is not None and not enough.all():
        h_med, h_scale = healthy.for_nodes(window.kinds, window.n_nodes)
        med[~enough], scale[~enough] = h_med[~enough], h_scale[~enough]
    return med, scale


def node_features(window: GraphWindow, healthy: Baseline | None = None) -> FloatArray:
    """[nodes, FEATURES] for the last rows of the window; missing values become 0 (normal)."""
    med, scale = node_normal(window, healthy)
    recent = window.values[-RECENT_ROWS:]
    now = _nan_quiet(np.nanmean, recent, axis=0)
    last = window.values[-1]
    level = np.where(np.isfinite(last), last, now)
    scale = np.maximum(np.nan_to_num(scale, nan=0.0), np.maximum(SCALE_FLOOR, 0.01 * np.abs(med)))
    z = np.clip((now - med) / scale, -Z_CLIP, Z_CLIP)
    z = np.sign(z) * np.log1p(np.abs(z))
    with np.errstate(all="ignore"):
        ratio = np.log((np.abs(now) + SCALE_FLOOR) / (np.abs(med) + SCALE_FLOOR))
        vol = np.log1p(_nan_quiet(np.nanstd, recent, axis=0) / scale)
    out = np.concatenate([levels(level), z, ratio, vol], axis=1)
    out[~np.isfinite(out)] = 0.0
    return out


def healthy_baseline(
    windows: Sequence[GraphWindow], labels: Sequence[BoolArray] | None
) -> Baseline:
    """The normal of healthy nodes, overall and per kind, from the last row of each window."""
    rows: list[FloatArray] = []
    kinds: list[str] = []
    for i, w in enumerate(windows):
        ok = np.ones(w.n_nodes, dtype=bool) if labels is None else ~np.asarray(labels[i])
        rows.append(w.values[-1][ok])
        kinds.extend(np.asarray(w.kinds or ["?"] * w.n_nodes, dtype=object)[ok].tolist())
    if not rows:
        raise InvalidInputError("windows", "no windows to learn a healthy baseline from")
    data = np.concatenate(rows)
    kind_arr = np.asarray(kinds, dtype=object)

    def stats(x: FloatArray) -> tuple[FloatArray, FloatArray]:
        m = _nan_quiet(np.nanmedian, x, axis=0)
        s = 1.4826 * _nan_quiet(np.nanmedian, np.abs(x - m), axis=0)
        return np.nan_to_num(m), np.nan_to_num(s)

    med, scale = stats(data)
    by_kind = {str(k): stats(data[kind_arr == k]) for k in sorted(set(kinds)) if k != "?"}
    return Baseline(median=med, scale=scale, by_kind=by_kind)


@dataclass(slots=True)
class Normaliser:
    """Standardises feature columns with the mean and spread seen in training."""

    mean: FloatArray
    std: FloatArray

    @classmethod
    def fit(cls, x: FloatArray) -> Normaliser:
        std = x.std(axis=0)
        return cls(mean=x.mean(axis=0), std=np.where(std > 1e-9, std, 1.0))

    def __call__(self, x: FloatArray) -> FloatArray:
        return (x - self.mean) / self.std
