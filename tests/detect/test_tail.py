"""The tail calibrator: per-series scale, monotone, never saturating, bounded memory."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.detect.tail import MEDIAN_SAMPLE, SAMPLE_EVERY, TailCalibrator


def _trained(scales: list[float], n: int = 600) -> TailCalibrator:
    rng = np.random.default_rng(0)
    cal = TailCalibrator(history=500, refit_every=5)
    cal.reserve(len(scales))
    idx = np.arange(len(scales))
    for _ in range(n):
        cal.learn(idx, np.abs(rng.normal(size=len(scales))) * np.asarray(scales))
    return cal


def test_same_rarity_same_probability_whatever_the_scale() -> None:
    cal = _trained([1.0, 1000.0])
    p = cal.probability(np.array([0, 1]), np.array([3.0, 3000.0]))
    assert p[0] == pytest.approx(p[1], abs=0.01)
    assert 0.98 < p[0] < 1.0


def test_monotone_and_not_saturating() -> None:
    cal = _trained([1.0])
    xs = np.array([0.1, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0])
    ps = np.array([cal.probability(np.array([0]), np.array([x]))[0] for x in xs])
    assert np.all(np.diff(ps) > 0)
    assert ps[-1] < 1.0 and ps[-2] < ps[-1]


def test_too_little_history_scores_zero_and_nan_is_ignored() -> None:
    cal = TailCalibrator(min_history=50)
    cal.reserve(1)
    for _ in range(10):
        cal.learn(np.array([0]), np.array([1.0]))
    cal.learn(np.array([0]), np.array([np.nan]))
    assert cal.probability(np.array([0]), np.array([100.0]))[0] == 0.0


def test_a_rise_above_a_flat_history_is_as_rare_as_a_first_ever() -> None:
    cal = TailCalibrator(min_history=20, refit_every=1)
    cal.reserve(1)
    for _ in range(100):
        cal.learn(np.array([0]), np.array([0.0]))
    # A flat tail gives no scale to extrapolate with: a point above it is one in 101, not
    # one in 10^12 (a CUSUM that leaves 0 for the first time must not page at full score).
    low, high = cal.probability(np.array([0, 0]), np.array([0.5, 50.0]))
    assert low == high == pytest.approx(1 - 1 / 101)
    assert cal.probability(np.array([0]), np.array([0.0]))[0] == 0.0


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        TailCalibrator(level=1.0)


def test_an_outage_does_not_teach_the_tail_that_outages_are_normal() -> None:
    def after_outage(cap: float | None) -> float:
        rng = np.random.default_rng(1)
        cal = TailCalibrator(history=2000, level=0.99, refit_every=1, cap_surprise=cap)
        cal.reserve(1)
        idx = np.array([0])
        for _ in range(1500):
            cal.learn(idx, np.abs(rng.normal(size=1)))
        cal.probability(idx, np.array([0.0]))  # fit
        for _ in range(10):  # ten points of an outage, z about 40
            cal.learn(idx, np.array([40.0]))
        for _ in range(100):
            cal.learn(idx, np.abs(rng.normal(size=1)))
        return float(-np.log10(1.0 - cal.probability(idx, np.array([40.0]))[0]))

    # Capped at one in 10^5, the same outage a little later is still far beyond that;
    # learned raw, ten points fill the tail and the repeat looks like a one-in-10^3 event.
    assert after_outage(5.0) > 8.0
    assert after_outage(None) < 4.0


def test_the_cap_must_lie_beyond_the_level() -> None:
    with pytest.raises(ValueError):
        TailCalibrator(level=0.99, cap_surprise=1.5)


def test_a_young_series_fits_its_tail_to_enough_points() -> None:
    """With 200 points the 99th percentile is their second largest: the tail starts lower so
    that it holds a few, and a second-largest point is not called one in 10^4."""
    rng = np.random.default_rng(2)
    cal = TailCalibrator(history=2000, level=0.99, refit_every=1)
    cal.reserve(1)
    idx = np.array([0])
    history = np.abs(rng.normal(size=200))
    for x in history:
        cal.learn(idx, np.array([x]))
    second = np.sort(history)[-2]
    surprise = -np.log10(1.0 - cal.probability(idx, np.array([second]))[0])
    assert 1.0 < surprise < 2.5  # about one in 100, as 2 points in 200 are


@pytest.mark.parametrize(
    "counts", [[2000] * 6, [300] * 3 + [2000] * 3, list(range(100, 1300, 100))]
)
def test_the_fit_is_numpys_quantile_and_the_mean_excess(counts: list[int]) -> None:
    """Series of any length agree with np.quantile on their own points: the tail's quantile and
    mean excess exactly, the median exactly below 2 * MEDIAN_SAMPLE points, that of every
    SAMPLE_EVERY-th point above."""
    rng = np.random.default_rng(4)
    cal = TailCalibrator(history=2000, level=0.99, refit_every=1)
    cal.reserve(len(counts))
    points = [rng.lognormal(size=n) for n in counts]
    for step in range(max(counts)):
        live = np.array([i for i, n in enumerate(counts) if step < n])
        cal.learn(live, np.array([points[i][step] for i in live]))
    cal.probability(np.arange(len(counts)), np.zeros(len(counts)))  # refit everyone
    for i, x in enumerate(points):
        level = min(0.99, 1.0 - cal.min_exceedances / len(x))
        med, q = np.quantile(x, [0.5, level])
        if len(x) < 2 * MEDIAN_SAMPLE:
            assert cal._med[i] == pytest.approx(med, rel=1e-12)
        else:
            assert cal._med[i] == pytest.approx(np.median(x[::SAMPLE_EVERY]), rel=1e-12)
        assert cal._q[i] == pytest.approx(q, rel=1e-12)
        assert cal._mean_excess[i] == pytest.approx(np.mean(x[x > q] - q), rel=1e-9)
