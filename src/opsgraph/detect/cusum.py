"""CUSUM change-point detection: small persistent shifts add up until they are unmistakable.

Per series, a two-sided cumulative sum of standardised deviations from an exponentially
weighted reference (Page, 1954); the raw score is the larger sum, reset once it has alarmed.
"""

from __future__ import annotations

import numpy as np

from opsgraph.detect.base import BoolArray, FloatArray, IndexArray, learnable


class CusumDetector:
    """Two-sided CUSUM with slack `k` (in standard deviations) and reset after `reset_at`."""

    name = "cusum"

    def __init__(
        self, window: int = 120, min_points: int = 20, k: float = 0.5, reset_at: float = 10.0
    ) -> None:
        if window < 3 or min_points < 2 or k < 0 or reset_at <= 0:
            raise ValueError("need window >= 3, min_points >= 2, k >= 0 and reset_at > 0")
        self.window = window
        self.min_points = min_points
        self.k = k
        self.reset_at = reset_at
        self._alpha = 2.0 / (window + 1)
        self._mean = np.zeros(0)
        self._var = np.zeros(0)
        self._pos = np.zeros(0)
        self._neg = np.zeros(0)
        self._count = np.zeros(0, dtype=np.int64)

    def reserve(self, n_series: int) -> None:
        grow = n_series - self._mean.shape[0]
        if grow <= 0:
            return
        for name in ("_mean", "_var", "_pos", "_neg"):
            setattr(self, name, np.concatenate([getattr(self, name), np.zeros(grow)]))
        self._count = np.concatenate([self._count, np.zeros(grow, dtype=np.int64)])

    def _sums(self, idx: IndexArray, values: FloatArray) -> tuple[FloatArray, FloatArray]:
        mean = self._mean[idx]
        sd = np.sqrt(self._var[idx])
        sd = np.maximum(sd, np.maximum(1e-3 * np.abs(mean), 1e-9))
        z = (values - mean) / sd
        pos = np.maximum(0.0, self._pos[idx] + z - self.k)
        neg = np.maximum(0.0, self._neg[idx] - z - self.k)
        return pos, neg

    def score(
        self, idx: IndexArray, values: FloatArray, ts: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        pos, neg = self._sums(idx, values)
        ready = self._count[idx] >= self.min_points
        raw = np.where(ready & np.isfinite(values), np.maximum(pos, neg), np.nan)
        return raw, np.where(ready, self._mean[idx], np.nan)

    def learn(
        self,
        idx: IndexArray,
        values: FloatArray,
        accept: BoolArray | None = None,
        ts: FloatArray | None = None,
    ) -> None:
        keep = learnable(values, accept)
        idx, values = idx[keep], values[keep]
        count = self._count[idx]
        pos, neg = self._sums(idx, values)
        warm = count >= self.min_points
        alarmed = warm & (np.maximum(pos, neg) >= self.reset_at)
        self._pos[idx] = np.where(warm & ~alarmed, pos, 0.0)
        self._neg[idx] = np.where(warm & ~alarmed, neg, 0.0)
        # The reference: a running mean while warming up, then exponentially weighted.
        a = np.where(count < self.window, 1.0 / (count + 1), self._alpha)
        mean = self._mean[idx]
        delta = values - mean
        self._mean[idx] = mean + a * delta
        self._var[idx] = (1 - a) * (self._var[idx] + a * delta * delta)
        self._count[idx] = count + 1
