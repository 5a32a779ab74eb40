"""The expected band of a recorded series: causal rolling median ± k robust sigmas, point by point.

It replays the `robust_z` detector's baseline over a whole array at once (same window, warm-up,
MAD and fallbacks), so a point outside the band is one the detector scores above the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from opsgraph.detect.base import FloatArray
from opsgraph.detect.calibrate import ExponentialCalibrator
from opsgraph.detect.robust_z import rolling_baselines

#: Window elements processed per chunk: bounds memory for long series with wide windows.


@dataclass(frozen=True)
class Band:
    """Per point: the baseline (median of the previous window) and the band around it.

    NaN where the detector is still warming up (fewer than min_points earlier points)."""

    expected: FloatArray
    lower: FloatArray
    upper: FloatArray


def threshold_z(alert_threshold: float, onset: float, scale: float) -> float:
    """The robust z at which the exponential calibrator's score reaches alert_threshold."""
    if not 0.0 <= alert_threshold < 1.0:
        raise ValueError("alert_threshold must be in [0, 1)")
    return ExponentialCalibrator(onset=onset, scale=scale).raw_at(alert_threshold)


def rolling_band(
    values: FloatArray,
    *,
    window: int,
    min_points: int,
    k: float,
    rel_floor: float = 1e-3,
) -> Band:
    """Band of each point from the points before it only (as the detector scores, then learns).

    Non-finite points are skipped as the detector skips them: they get the band of the next
    point and do not enter any window."""
    if window < 3 or not 3 <= min_points <= window:
        raise ValueError("need window >= 3 and 3 <= min_points <= window")
    if not k >= 0:
        raise ValueError("k must be 0 or more")
    x = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(x)
    learnt = x[finite]
    # Finite points before each position: the detector's window there ends at that count.
    before = np.cumsum(finite) - finite
    med_by_count, scale_by_count = rolling_baselines(learnt, window, min_points, rel_floor)
    med = med_by_count[before]
    scale = scale_by_count[before]
    return Band(expected=med, lower=med - k * scale, upper=med + k * scale)
