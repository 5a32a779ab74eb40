"""Rolling robust z-score (median / MAD) per series, vectorised across all series at once.

Each series keeps a ring buffer of its last `window` points and, once full, the same points
sorted, updated in place per point, so the median is a lookup and the MAD a short search
(compiled loops, `detect/kernels.py`).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from opsgraph.detect.base import (
    MAD_TO_SIGMA,
    MEANAD_TO_SIGMA,
    BoolArray,
    FloatArray,
    IndexArray,
    learnable,
)

#: Window elements sorted at once by `rolling_baselines` (bounds its memory).
_CHUNK_ELEMENTS = 1 << 20


class RobustZDetector:
    """|x - median| / (1.4826 * MAD) over a rolling window, for many series in one call."""

    name = "robust_z"

    def __init__(self, window: int = 60, min_points: int = 20, rel_floor: float = 1e-3) -> None:
        if window < 3 or not 3 <= min_points <= window:
            raise ValueError("need window >= 3 and 3 <= min_points <= window")
        self.window = window
        self.min_points = min_points
        # Floor on the scale relative to the median: a flat series that moves by 0.1 % is noise.
        self.rel_floor = rel_floor
        self._buf = np.full((0, window), np.nan)  # ring buffer, in arrival order
        self._sorted = np.full((0, window), np.nan)  # the same points sorted
        self._pos = np.zeros(0, dtype=np.int64)
        self._count = np.zeros(0, dtype=np.int64)
        # Median and scale of each window, NaN below min_points.
        self._med = np.full(0, np.nan)
        self._scale = np.full(0, np.nan)

    @property
    def n_series(self) -> int:
        return int(self._buf.shape[0])

    def reserve(self, n_series: int) -> None:
        grow = n_series - self.n_series
        if grow <= 0:
            return
        self._buf = np.vstack([self._buf, np.full((grow, self.window), np.nan)])
        self._sorted = np.vstack([self._sorted, np.full((grow, self.window), np.nan)])
        self._pos = np.concatenate([self._pos, np.zeros(grow, dtype=np.int64)])
        self._count = np.concatenate([self._count, np.zeros(grow, dtype=np.int64)])
        self._med = np.concatenate([self._med, np.full(grow, np.nan)])
        self._scale = np.concatenate([self._scale, np.full(grow, np.nan)])

    def baseline(self, idx: IndexArray) -> tuple[FloatArray, FloatArray]:
        """Median and robust scale of each series' window (NaN while warming up): computed by
        `learn` for the next point."""
        med = np.asarray(self._med[idx], dtype=np.float64)
        scale = np.maximum(self._scale[idx], self.rel_floor * np.abs(med))
        return med, np.maximum(scale, 1e-9)

    def score(
        self, idx: IndexArray, values: FloatArray, ts: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        med, scale = self.baseline(idx)
        return np.asarray(np.abs(values - med) / scale, dtype=np.float64), med

    def learn(
        self,
        idx: IndexArray,
        values: FloatArray,
        accept: BoolArray | None = None,
        ts: FloatArray | None = None,
    ) -> None:
        from opsgraph.detect import kernels

        kernels.window_learn(
            self._buf,
            self._sorted,
            self._pos,
            self._count,
            self._med,
            self._scale,
            np.ascontiguousarray(idx, dtype=np.int64),
            np.ascontiguousarray(values, dtype=np.float64),
            learnable(values, accept),
            self.min_points,
        )

    def score_run(
        self, series: int, values: FloatArray, ts: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """Score, then learn, each point of a run of one series in order: the raw scores and
        expected values that one `score` and one `learn` call per point would give, in one
        vectorised pass (a long history pushed in one request costs per point what a wide
        batch does)."""
        count, pos = int(self._count[series]), int(self._pos[series])
        row = self._buf[series]
        history = np.roll(row, -pos) if count >= self.window else row[:count].copy()
        keep = learnable(values, None)
        learnt = np.concatenate([history, values[keep]])
        med_by, scale_by = rolling_baselines(learnt, self.window, self.min_points, self.rel_floor)
        before = count + np.cumsum(keep) - keep  # points learnt before each one is scored
        med, scale = med_by[before], scale_by[before]
        raw = np.asarray(np.abs(values - med) / scale, dtype=np.float64)
        last = learnt[-self.window :]
        k = last.shape[0]
        self._buf[series] = np.nan
        self._buf[series, :k] = last
        self._pos[series] = k % self.window
        self._count[series] = k
        self._sorted[series] = np.nan
        self._sorted[series, :k] = np.sort(last)
        self._med[series], self._scale[series] = (
            (med_by[-1], scale_by[-1]) if k >= self.min_points else (np.nan, np.nan)
        )
        return raw, med


def _nan_median_scale(rows: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The same for windows still filling up (NaN marks empty slots)."""
    med = np.nanmedian(rows, axis=1)
    dev = np.abs(rows - med[:, None])
    scale = MAD_TO_SIGMA * np.nanmedian(dev, axis=1)
    flat = scale == 0
    if flat.any():
        scale[flat] = MEANAD_TO_SIGMA * np.nanmean(dev[flat], axis=1)
    return med, scale


def rolling_baselines(
    learnt: FloatArray, window: int, min_points: int, rel_floor: float
) -> tuple[FloatArray, FloatArray]:
    """Median and robust scale after each count 0..n of learnt points (n + 1 entries): what
    the detector's baseline would be after learning them one by one, in one vectorised pass."""
    from opsgraph.detect import kernels

    n = learnt.shape[0]
    med = np.full(n + 1, np.nan)
    scale = np.full(n + 1, np.nan)
    # Row r of the windows holds the `window` points before position r (NaN-padded at first).
    padded = np.concatenate([np.full(window, np.nan), learnt])
    rows = sliding_window_view(padded, window)
    count = np.minimum(np.arange(n + 1), window)
    step = max(1, _CHUNK_ELEMENTS // window)
    for lo in range(0, n + 1, step):
        hi = min(n + 1, lo + step)
        chunk, c = rows[lo:hi], count[lo:hi]
        full = c >= window
        partial = (c >= min_points) & ~full
        if full.any():
            where = np.flatnonzero(full) + lo
            ordered = np.sort(chunk[full], axis=1)
            med[where], scale[where] = kernels.sorted_median_scale(
                ordered, np.arange(ordered.shape[0], dtype=np.int64)
            )
        if partial.any():
            where = np.flatnonzero(partial) + lo
            med[where], scale[where] = _nan_median_scale(np.array(chunk[partial]))
    warm = np.isfinite(med)
    scale[warm] = np.maximum(np.maximum(scale[warm], rel_floor * np.abs(med[warm])), 1e-9)
    return med, scale
