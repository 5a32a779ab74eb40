"""Rolling robust z-score (median / MAD) per series, vectorised across all series at once.

Each series keeps a ring buffer of its last `window` points; a point's raw score is its
distance from the window median in units of the scaled median absolute deviation.
"""

from __future__ import annotations

import numpy as np

from opsgraph.detect.base import BoolArray, FloatArray, IndexArray

_MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation
_MEANAD_TO_SIGMA = 1.2533  # the same for the mean absolute deviation (used when MAD is 0)


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
        self._buf = np.full((0, window), np.nan)
        self._pos = np.zeros(0, dtype=np.int64)
        self._count = np.zeros(0, dtype=np.int64)

    @property
    def n_series(self) -> int:
        return int(self._buf.shape[0])

    def reserve(self, n_series: int) -> None:
        have = self.n_series
        if n_series <= have:
            return
        grow = n_series - have
        self._buf = np.vstack([self._buf, np.full((grow, self.window), np.nan)])
        self._pos = np.concatenate([self._pos, np.zeros(grow, dtype=np.int64)])
        self._count = np.concatenate([self._count, np.zeros(grow, dtype=np.int64)])

    def baseline(self, idx: IndexArray) -> tuple[FloatArray, FloatArray]:
        """Median and robust scale of each series' window (NaN while warming up)."""
        count = self._count[idx]
        med = np.full(idx.shape[0], np.nan)
        scale = np.full(idx.shape[0], np.nan)
        full = count >= self.window
        partial = (count >= self.min_points) & ~full
        if full.any():
            sel = idx if full.all() else idx[full]
            rows = self._buf if _is_everything(sel, self.n_series) else self._buf[sel]
            m, s = _median_scale(rows, nan_aware=False)
            med[full], scale[full] = m, s
        if partial.any():
            m, s = _median_scale(self._buf[idx[partial]], nan_aware=True)
            med[partial], scale[partial] = m, s
        scale = np.maximum(scale, self.rel_floor * np.abs(med))
        return med, np.maximum(scale, 1e-9)

    def score(self, idx: IndexArray, values: FloatArray) -> tuple[FloatArray, FloatArray]:
        med, scale = self.baseline(idx)
        return np.asarray(np.abs(values - med) / scale, dtype=np.float64), med

    def learn(self, idx: IndexArray, values: FloatArray, accept: BoolArray | None = None) -> None:
        keep = np.isfinite(values)
        if accept is not None:
            keep &= accept
        if not keep.all():
            idx, values = idx[keep], values[keep]
        pos = self._pos[idx]
        self._buf[idx, pos] = values
        self._pos[idx] = (pos + 1) % self.window
        self._count[idx] = np.minimum(self._count[idx] + 1, self.window)


def _is_everything(idx: IndexArray, n: int) -> bool:
    """True when idx is exactly 0 .. n-1 in order, so the buffer can be used without a copy."""
    return idx.shape[0] == n and bool(np.array_equal(idx, np.arange(n)))


def _median_scale(rows: FloatArray, *, nan_aware: bool) -> tuple[FloatArray, FloatArray]:
    median = np.nanmedian if nan_aware else np.median
    med = median(rows, axis=1)
    dev = np.abs(rows - med[:, None])
    scale = _MAD_TO_SIGMA * median(dev, axis=1)
    flat = scale == 0
    if flat.any():
        # Over half the window equals the median: fall back to the mean absolute deviation.
        mean = np.nanmean if nan_aware else np.mean
        scale[flat] = _MEANAD_TO_SIGMA * mean(dev[flat], axis=1)
    return med, scale
