"""The expected band of a recorded series: causal rolling median ± k robust sigmas, point by point.

It replays the `robust_z` detector's baseline over a whole array at once (same window, warm-up,
MAD and fallbacks), so a point outside the band is one the detector scores above the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from opsgraph.detect.base import FloatArray
from opsgraph.detect.calibrate import ExponentialCalibrator
from opsgraph.detect.robust_z import _nan_median_scale, _sorted_median_scale

#: Window elements processed per chunk: bounds memory for long series with wide windows.
_CHUNK_ELEMENTS = 1 << 20


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
    med_by_count, scale_by_count = _baselines(learnt, window, min_points, rel_floor)
    med = med_by_count[before]
    scale = scale_by_count[before]
    return Band(expected=med, lower=med - k * scale, upper=med + k * scale)


def _baselines(
    learnt: FloatArray, window: int, min_points: int, rel_floor: float
) -> tuple[FloatArray, FloatArray]:
    """Median and robust scale after each count 0..n of learnt points (n + 1 entries)."""
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
            med[where], scale[where] = _sorted_median_scale(np.sort(chunk[full], axis=1))
        if partial.any():
            where = np.flatnonzero(partial) + lo
            med[where], scale[where] = _nan_median_scale(np.array(chunk[partial]))
    warm = np.isfinite(med)
    scale[warm] = np.maximum(np.maximum(scale[warm], rel_floor * np.abs(med[warm])), 1e-9)
    return med, scale
