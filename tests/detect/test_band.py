"""The expected band agrees with the robust_z detector it replays, point by point."""

from __future__ import annotations

import math

import numpy as np
import pytest

from opsgraph.detect.band import rolling_band, threshold_z
from opsgraph.detect.calibrate import ExponentialCalibrator
from opsgraph.detect.robust_z import RobustZDetector


def _detector_baseline(
    values: np.ndarray, window: int, min_points: int
) -> tuple[np.ndarray, np.ndarray]:
    """The detector's median and scale before each point, as the pipeline scores then learns."""
    det = RobustZDetector(window=window, min_points=min_points)
    det.reserve(1)
    idx = np.array([0])
    meds, scales = [], []
    for v in values:
        med, scale = det.baseline(idx)
        meds.append(med[0])
        scales.append(scale[0])
        det.learn(idx, np.array([v]))
    return np.array(meds), np.array(scales)


@pytest.mark.parametrize(("window", "min_points"), [(30, 10), (31, 31), (8, 3)])
def test_band_matches_the_detector(window: int, min_points: int) -> None:
    rng = np.random.default_rng(5)
    values = 50 + 5 * np.sin(np.arange(300) / 9) + rng.normal(0, 1, 300)
    values[120:125] = 95.0  # a spike enters the windows
    values[200:240] = 40.0  # a flat stretch: MAD 0, the mean-deviation fallback
    values[[10, 150, 151]] = np.nan  # skipped, as the detector skips them
    band = rolling_band(values, window=window, min_points=min_points, k=2.5)
    med, scale = _detector_baseline(values, window, min_points)
    warm = np.isfinite(med)
    assert warm.sum() > 200
    np.testing.assert_array_equal(np.isfinite(band.expected), warm)
    np.testing.assert_allclose(band.expected[warm], med[warm], rtol=1e-12)
    np.testing.assert_allclose(band.upper[warm], med[warm] + 2.5 * scale[warm], rtol=1e-12)
    np.testing.assert_allclose(band.lower[warm], med[warm] - 2.5 * scale[warm], rtol=1e-12)
    assert np.isnan(band.upper[:min_points]).all()


def test_band_is_causal() -> None:
    values = np.arange(100, dtype=float)
    changed = values.copy()
    changed[70:] = 1e6  # the future must not move the band of earlier points
    a = rolling_band(values, window=20, min_points=5, k=3)
    b = rolling_band(changed, window=20, min_points=5, k=3)
    np.testing.assert_array_equal(a.upper[:71], b.upper[:71])
    assert b.upper[85] > a.upper[85]  # once most of the window is the new level


def test_points_outside_the_band_are_the_ones_scored_above_the_threshold() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(100, 3, 400)
    values[300] = 140.0
    k = threshold_z(0.35, onset=3.0, scale=4.0)
    band = rolling_band(values, window=60, min_points=20, k=k)
    med, scale = _detector_baseline(values, 60, 20)
    scores = ExponentialCalibrator(onset=3.0, scale=4.0)(np.abs(values - med) / scale)
    outside = (values > band.upper) | (values < band.lower)
    warm = np.isfinite(med)
    np.testing.assert_array_equal(outside[warm], scores[warm] >= 0.35)
    assert outside[300]


def test_threshold_z_inverts_the_calibrator() -> None:
    z = threshold_z(0.35, onset=3.0, scale=4.0)
    assert math.isclose(z, 3.0 + 4.0 * math.log(1 / 0.65))
    score = ExponentialCalibrator(onset=3.0, scale=4.0)(np.array([z]))[0]
    assert math.isclose(score, 0.35)
    with pytest.raises(ValueError, match="alert_threshold"):
        threshold_z(1.0, onset=3.0, scale=4.0)


def test_bad_window_and_k_are_refused() -> None:
    with pytest.raises(ValueError, match="window"):
        rolling_band(np.ones(10), window=2, min_points=3, k=1)
    with pytest.raises(ValueError, match="k must"):
        rolling_band(np.ones(10), window=5, min_points=3, k=-1)


def test_long_series_in_chunks_matches_one_pass() -> None:
    rng = np.random.default_rng(2)
    values = rng.normal(0, 1, 40_000)
    band = rolling_band(values, window=60, min_points=20, k=3)
    head = rolling_band(values[:500], window=60, min_points=20, k=3)
    np.testing.assert_array_equal(band.upper[:500], head.upper)
    assert np.isfinite(band.upper[20:]).all()
    assert np.isnan(band.upper[:20]).all()
