"""Seasonal baseline: what a series usually does at this hour of the day (or of the week).

Per series and time slot, exponentially weighted mean and mean absolute deviation of the value;
a point's raw score is its distance from its slot's mean in units of the slot's spread.
"""

from __future__ import annotations

import numpy as np

from opsgraph.detect.base import BoolArray, FloatArray, IndexArray, learnable

_PERIOD_S = {"day": 86_400, "week": 7 * 86_400}


class SeasonalDetector:
    """Hour-of-day (or hour-of-week) profiles; needs the points' timestamps."""

    name = "seasonal"

    def __init__(
        self,
        period: str = "day",
        slot_minutes: int = 60,
        alpha: float = 0.2,
        min_seen: int = 2,
        rel_floor: float = 1e-3,
    ) -> None:
        if period not in _PERIOD_S:
            raise ValueError(f"period must be one of {sorted(_PERIOD_S)}")
        if slot_minutes < 1 or _PERIOD_S[period] % (slot_minutes * 60):
            raise ValueError("slot_minutes must divide the period")
        if not 0 < alpha <= 1 or min_seen < 1:
            raise ValueError("need 0 < alpha <= 1 and min_seen >= 1")
        self.period = period
        self.slot_s = slot_minutes * 60
        self.n_slots = _PERIOD_S[period] // self.slot_s
        self.alpha = alpha
        self.min_seen = min_seen
        self.rel_floor = rel_floor
        self._mean = np.zeros((0, self.n_slots), dtype=np.float32)
        self._dev = np.zeros((0, self.n_slots), dtype=np.float32)
        self._seen = np.zeros((0, self.n_slots), dtype=np.int16)
        # A series-wide spread, so a slot seen only a few times is not judged on its own noise.
        self._spread = np.zeros(0)

    def reserve(self, n_series: int) -> None:
        grow = n_series - self._mean.shape[0]
        if grow <= 0:
            return
        self._mean = np.vstack([self._mean, np.zeros((grow, self.n_slots), np.float32)])
        self._dev = np.vstack([self._dev, np.zeros((grow, self.n_slots), np.float32)])
        self._seen = np.vstack([self._seen, np.zeros((grow, self.n_slots), np.int16)])
        self._spread = np.concatenate([self._spread, np.zeros(grow)])

    def _slot(self, ts: FloatArray | None) -> IndexArray:
        if ts is None:
            raise ValueError("the seasonal detector needs timestamps (ts)")
        return (np.floor(ts / self.slot_s).astype(np.int64)) % self.n_slots

    def score(
        self, idx: IndexArray, values: FloatArray, ts: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        from opsgraph.detect import kernels

        raw, expected = kernels.seasonal_score(
            self._mean,
            self._dev,
            self._seen,
            self._spread,
            np.ascontiguousarray(idx, dtype=np.int64),
            self._slot(ts),
            np.ascontiguousarray(values, dtype=np.float64),
            self.min_seen,
            self.rel_floor,
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

        kernels.seasonal_learn(
            self._mean,
            self._dev,
            self._seen,
            self._spread,
            np.ascontiguousarray(idx, dtype=np.int64),
            self._slot(ts),
            np.ascontiguousarray(values, dtype=np.float64),
            learnable(values, accept),
            self.alpha,
        )
