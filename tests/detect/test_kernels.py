"""The compiled loops agree with numpy's definitions (detect/kernels.py)."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.detect import kernels
from opsgraph.detect.robust_z import RobustZDetector
from opsgraph.detect.tail import TailCalibrator


@pytest.mark.parametrize("window", [3, 4, 7, 60, 121])
def test_the_sorted_window_is_the_ring_sorted(window: int) -> None:
    """Filling, then full: ties (rounded values), repeats of the oldest value, skipped NaN."""
    rng = np.random.default_rng(window)
    det = RobustZDetector(window=window, min_points=3)
    det.reserve(5)
    idx = np.arange(5, dtype=np.int64)
    for step in range(3 * window + 5):
        values = np.round(rng.normal(size=5) * 3)
        values[step % 5] = np.nan
        det.learn(idx, values)
        for s in range(5):
            n = int(det._count[s])
            ring = det._buf[s, :n] if n < window else det._buf[s]
            np.testing.assert_array_equal(det._sorted[s, :n], np.sort(ring))


@pytest.mark.parametrize("window", [3, 4, 5, 60, 61, 120])
def test_median_and_scale_of_sorted_rows(window: int) -> None:
    rng = np.random.default_rng(window)
    for _ in range(100):
        scale_of_values = rng.choice([0.01, 1.0, 100.0])
        rows = np.sort(np.round(rng.normal(size=(5, window)) * scale_of_values, 1), axis=1)
        med, scale = kernels.sorted_median_scale(rows, np.arange(5, dtype=np.int64))
        want_med = np.median(rows, axis=1)
        want = 1.4826 * np.median(np.abs(rows - want_med[:, None]), axis=1)
        flat = want == 0
        want[flat] = 1.2533 * np.abs(rows[flat] - want_med[flat, None]).mean(axis=1)
        np.testing.assert_array_equal(med, want_med)
        np.testing.assert_allclose(scale, want, rtol=1e-12)


def test_refits_that_start_from_the_last_floor_stay_exact() -> None:
    """A refit first keeps the values at or above the last fit's floor; when the tail's top
    has left the history since (a burst that expired), it must start again from -inf."""
    rng = np.random.default_rng(7)
    history = 300
    cal = TailCalibrator(history=history, level=0.95, refit_every=7, min_history=50)
    cal.reserve(2)
    idx = np.arange(2, dtype=np.int64)
    seen: list[list[float]] = [[], []]
    checked = 0
    for step in range(1500):
        x = rng.lognormal(size=2)
        if 200 <= step < 260:
            x[0] *= 50.0  # a burst that fills series 0's tail, then leaves its history
        cal.probability(idx, x)
        for s in range(2):
            n = len(seen[s])
            if n >= 50 and cal._since_fit[s] == 0:  # refitted just now, before learning x
                points = np.asarray(seen[s][-history:])
                level = min(0.95, 1.0 - cal.min_exceedances / len(points))
                q = np.quantile(points, level)
                assert cal._q[s] == pytest.approx(q, rel=1e-12)
                assert cal._mean_excess[s] == pytest.approx(
                    np.mean(points[points > q] - q), rel=1e-9
                )
                checked += 1
        cal.learn(idx, x)
        for s in range(2):
            # What the history holds: the point, capped at one in 10^5 under the fit.
            seen[s].append(float(cal._buf[s, (cal._pos[s] - 1) % history]))
    assert checked > 300
