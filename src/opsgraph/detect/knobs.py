"""False-positive knobs of the decision step, per metric: direction, minimum deviation, valid
range and warm-up, applied to calibrated scores before thresholds (after vmanomaly's ideas).

They encode what an operator knows and a detector cannot: a falling error rate is good news,
a 2 % wiggle is not worth a page, a CPU above 100 % is a broken exporter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from opsgraph.detect.base import FloatArray, IndexArray

Direction = Literal["up", "down", "both"]
_DIRECTION_CODE = {"both": 0, "up": 1, "down": 2}


@dataclass(frozen=True, slots=True)
class Knobs:
    """What counts as anomalous for one metric."""

    direction: Direction = "both"
    min_deviation: float = 0.0  # |value - expected| below this is never anomalous
    min_rel_deviation: float = 0.0  # ... nor below this fraction of |expected|
    valid_min: float | None = None  # values outside [valid_min, valid_max] are always anomalous
    valid_max: float | None = None
    warmup_points: int = 0  # the first points of a series are never anomalous


class KnobFilter:
    """Per-series knob arrays, built from a default and per-metric overrides."""

    def __init__(self, default: Knobs, per_metric: Mapping[str, Knobs] | None = None) -> None:
        self.default = default
        self.per_metric = dict(per_metric or {})
        self._direction = np.zeros(0, dtype=np.int8)
        self._min_dev = np.zeros(0)
        self._min_rel = np.zeros(0)
        self._lo = np.zeros(0)
        self._hi = np.zeros(0)
        self._warmup = np.zeros(0, dtype=np.int64)
        self._seen = np.zeros(0, dtype=np.int64)

    def add_series(self, metrics: Sequence[str]) -> None:
        """Register new series (in index order) by their metric names."""
        knobs = [self.per_metric.get(m, self.default) for m in metrics]
        self._direction = np.concatenate(
            [self._direction, np.array([_DIRECTION_CODE[k.direction] for k in knobs], np.int8)]
        )
        self._min_dev = np.concatenate([self._min_dev, [k.min_deviation for k in knobs]])
        self._min_rel = np.concatenate([self._min_rel, [k.min_rel_deviation for k in knobs]])
        lo = [-np.inf if k.valid_min is None else k.valid_min for k in knobs]
        hi = [np.inf if k.valid_max is None else k.valid_max for k in knobs]
        self._lo = np.concatenate([self._lo, lo])
        self._hi = np.concatenate([self._hi, hi])
        self._warmup = np.concatenate(
            [self._warmup, np.array([k.warmup_points for k in knobs], np.int64)]
        )
        self._seen = np.concatenate([self._seen, np.zeros(len(knobs), np.int64)])

    def apply(
        self, idx: IndexArray, values: FloatArray, expected: FloatArray, scores: FloatArray
    ) -> FloatArray:
        """The scores with the knobs applied; counts the points for the warm-up."""
        out = self._apply(idx, values, expected, scores, self._seen[idx])
        self._seen[idx] += 1
        return out

    def apply_run(
        self, series: int, values: FloatArray, expected: FloatArray, scores: FloatArray
    ) -> FloatArray:
        """`apply` for a run of points of one series, in order."""
        idx = np.full(values.shape[0], series, dtype=np.int64)
        seen = self._seen[series] + np.arange(values.shape[0])
        out = self._apply(idx, values, expected, scores, seen)
        self._seen[series] += values.shape[0]
        return out

    def _apply(
        self,
        idx: IndexArray,
        values: FloatArray,
        expected: FloatArray,
        scores: FloatArray,
        seen: npt.NDArray[np.int64],
    ) -> FloatArray:
        out = np.nan_to_num(scores, nan=0.0)
        deviation = values - expected
        direction = self._direction[idx]
        wrong_way = ((direction == 1) & (deviation < 0)) | ((direction == 2) & (deviation > 0))
        small = np.abs(deviation) < np.maximum(
            self._min_dev[idx], self._min_rel[idx] * np.abs(expected)
        )
        # Without an expected value (warming detector) deviation is NaN: leave the score alone.
        known = np.isfinite(deviation)
        out = np.where(known & (wrong_way | small), 0.0, out)
        out = np.where(seen < self._warmup[idx], 0.0, out)
        out = np.where((values < self._lo[idx]) | (values > self._hi[idx]), 1.0, out)
        return out
