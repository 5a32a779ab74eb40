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

    def score(
        self, idx: IndexArray, values: FloatArray, ts: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        from opsgraph.detect import kernels

        raw, expected = kernels.cusum_score(
            self._mean,
            self._var,
            self._pos,
            self._neg,
            self._count,
            np.ascontiguousarray(idx, dtype=np.int64),
            np.ascontiguousarray(values, dtype=np.float64),
            self.k,
            self.min_points,
        )
        return np.asarray(raw, dtype=np.float64), np.asarray(expected, dtype=np.float64)

    def learn(
        self,
        idx: IndexArray,
        values: FloatArray,
        accept: BoolArray | None = None,
        ts: FloatArray | None = None,
    ) -> None:
        from opsgraph.detect import kernels

        kernels.cusum_learn(
            self._mean,
            self._var,
            self._pos,
            self._neg,
            self._count,
            np.ascontiguousarray(idx, dtype=np.int64),
            np.ascontiguousarray(values, dtype=np.float64),
            learnable(values, accept),
            self.k,
            self.reset_at,
            self.min_points,
            self.window,
            self._alpha,
        )
