"""The rolling robust z detector: matches a per-series reference, sees no future, copes."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.detect import ExponentialCalibrator, RobustZDetector


def _reference(history: list[float], x: float, window: int) -> float:
    w = np.asarray(history[-window:])
    med = np.median(w)
    dev = np.abs(w - med)
    scale = 1.4826 * np.median(dev)
    if scale == 0:
        scale = 1.2533 * dev.mean()
    scale = max(scale, 1e-3 * abs(med), 1e-9)
    return float(abs(x - med) / scale)


@pytest.mark.parametrize(("window", "ties"), [(30, False), (7, False), (30, True), (9, True)])
def test_vectorised_scores_match_a_per_series_reference(window: int, ties: bool) -> None:
    rng = np.random.default_rng(window)
    n, steps = 40, 120
    det = RobustZDetector(window=window, min_points=min(10, window))
    det.reserve(n)
    data = rng.normal(50, 5, size=(steps, n)) * rng.uniform(0.1, 10, size=n)
    if ties:  # integer counts: many equal values in every window
        data = np.round(data / 10)
    idx = np.arange(n)
    for t in range(steps):
        raw, expected = det.score(idx, data[t])
        if t < min(10, window):
            assert np.isnan(raw).all()
        else:
            for s in range(n):
                ref = _reference(list(data[:t, s]), data[t, s], window)
                assert raw[s] == pytest.approx(ref, rel=1e-9)
                assert expected[s] == pytest.approx(np.median(data[max(0, t - window) : t, s]))
        det.learn(idx, data[t])


def test_subset_and_permuted_batches_score_the_right_series() -> None:
    det = RobustZDetector(window=10, min_points=5)
    det.reserve(3)
    for t in range(10):
        det.learn(np.arange(3), np.array([1.0, 100.0, 1000.0]) + (t % 2))
    raw, expected = det.score(np.array([2, 0]), np.array([1000.5, 1.5]))
    assert expected.tolist() == [1000.5, 1.5]
    assert raw.tolist() == [0.0, 0.0]
    raw, _ = det.score(np.array([2, 1, 0]), np.array([1000.5, 100.5, 50.0]))
    assert raw[0] == 0.0 and raw[1] == 0.0 and raw[2] > 10


def test_no_look_ahead() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=200)
    b = a.copy()
    b[150:] += 100.0  # the future differs
    scores = []
    for series in (a, b):
        det = RobustZDetector(window=40, min_points=10)
        det.reserve(1)
        out = []
        for x in series:
            raw, _ = det.score(np.array([0]), np.array([x]))
            det.learn(np.array([0]), np.array([x]))
            out.append(raw[0])
        scores.append(np.array(out))
    np.testing.assert_array_equal(scores[0][:150], scores[1][:150])


def test_spike_scores_high_and_calibrates_to_critical() -> None:
    rng = np.random.default_rng(2)
    det = RobustZDetector(window=60, min_points=20)
    det.reserve(1)
    for x in rng.normal(40, 2, size=60):
        det.learn(np.array([0]), np.array([x]))
    raw, _ = det.score(np.array([0, 0])[:1], np.array([95.0]))
    assert raw[0] > 20
    assert ExponentialCalibrator()(raw)[0] > 0.85


def test_constant_nan_and_new_series() -> None:
    det = RobustZDetector(window=10, min_points=3)
    det.reserve(2)
    for _ in range(10):
        det.learn(np.array([0, 1]), np.array([5.0, np.nan]))
    raw, expected = det.score(np.array([0, 1]), np.array([5.0, 1.0]))
    assert raw[0] == 0.0 and expected[0] == 5.0
    assert np.isnan(raw[1])  # never learned a finite point: still warming up
    raw, _ = det.score(np.array([0]), np.array([5.5]))
    assert np.isfinite(raw[0]) and raw[0] > 5  # a flat series that moves is anomalous
    det.reserve(5)
    raw, _ = det.score(np.array([4]), np.array([1.0]))
    assert np.isnan(raw[0])


def test_refused_points_are_not_learned() -> None:
    det = RobustZDetector(window=5, min_points=3)
    det.reserve(1)
    for x in (1.0, 2.0, 3.0):
        det.learn(np.array([0]), np.array([x]))
    det.learn(np.array([0]), np.array([1000.0]), accept=np.array([False]))
    _, expected = det.score(np.array([0]), np.array([0.0]))
    assert expected[0] == 2.0


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        RobustZDetector(window=2)
    with pytest.raises(ValueError):
        RobustZDetector(window=10, min_points=20)


def test_calibrator_is_monotone_and_bounded() -> None:
    cal = ExponentialCalibrator(onset=3, scale=4)
    raw = np.array([np.nan, 0, 3, 4.7, 7.2, 10.6, 1e9])
    out = cal(raw)
    assert out[0] == 0 and out[1] == 0 and out[2] == 0
    assert np.all(np.diff(out[1:]) >= 0) and out.max() <= 1.0
    assert out[3] == pytest.approx(0.35, abs=0.01)
    assert out[4] == pytest.approx(0.65, abs=0.01)
    assert out[5] == pytest.approx(0.85, abs=0.01)


def test_series_learning_in_random_subsets_match_the_reference() -> None:
    rng = np.random.default_rng(5)
    n, window = 12, 8
    det = RobustZDetector(window=window, min_points=4)
    det.reserve(n)
    history: list[list[float]] = [[] for _ in range(n)]
    for _ in range(150):
        idx = np.sort(rng.choice(n, size=rng.integers(1, n + 1), replace=False))
        values = np.round(rng.normal(20, 4, size=idx.shape[0]))
        raw, _ = det.score(idx, values)
        for j, s in enumerate(idx.tolist()):
            if len(history[s]) >= 4:
                assert raw[j] == pytest.approx(_reference(history[s], values[j], window))
            else:
                assert np.isnan(raw[j])
        det.learn(idx, values)
        for j, s in enumerate(idx.tolist()):
            history[s].append(float(values[j]))


def test_calibrator_keeps_ordering_beyond_critical() -> None:
    """Scores do not saturate: how far beyond critical a point is still shows."""
    cal = ExponentialCalibrator(onset=3, scale=4)
    z = np.array([10.0, 10.6, 11.0, 20.0, 100.0, 1000.0, 1e6])
    out = cal(z)
    assert np.all(np.diff(out) > 0) and out.max() < 1.0
    assert out[3] == pytest.approx(0.89, abs=0.01) and out[4] == pytest.approx(0.954, abs=0.01)
    assert round(float(out[4]), 2) < round(float(out[5]), 2) < 1.0
    # continuous at the knee, and raw_at inverts the map on both sides of it
    knee = cal.raw_at(0.85)
    assert cal(np.array([knee - 1e-9, knee + 1e-9])) == pytest.approx([0.85, 0.85], abs=1e-8)
    for score in (0.35, 0.65, 0.85, 0.9, 0.99):
        assert cal(np.array([cal.raw_at(score)]))[0] == pytest.approx(score, abs=1e-9)


@pytest.mark.parametrize("before", [0, 5, 12, 40])
def test_a_run_scores_and_learns_as_point_by_point_does(before: int) -> None:
    rng = np.random.default_rng(before)
    history = rng.normal(10, 2, before)
    run = np.concatenate([rng.normal(10, 2, 200), [60.0], rng.normal(30, 1, 50)])
    after = rng.normal(30, 1, 30)
    one, two = RobustZDetector(window=24, min_points=8), RobustZDetector(window=24, min_points=8)
    for d in (one, two):
        d.reserve(3)
        for v in history:  # a neighbour series keeps its own state
            d.score(np.array([1, 2]), np.array([v, -v]))
            d.learn(np.array([1, 2]), np.array([v, -v]))
    point_raw, point_med = [], []
    for v in run:
        raw, med = one.score(np.array([1]), np.array([v]))
        one.learn(np.array([1]), np.array([v]))
        point_raw.append(raw[0])
        point_med.append(med[0])
    raw, med = two.score_run(1, run)
    np.testing.assert_array_equal(np.isnan(raw), np.isnan(point_raw))
    np.testing.assert_allclose(raw, point_raw, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(med, point_med, rtol=1e-12, equal_nan=True)
    # and both go on alike, the neighbour untouched
    for v in after:
        a = one.score(np.array([1, 2]), np.array([v, -v]))[0]
        b = two.score(np.array([1, 2]), np.array([v, -v]))[0]
        np.testing.assert_allclose(a, b, rtol=1e-12, equal_nan=True)
        for d in (one, two):
            d.learn(np.array([1, 2]), np.array([v, -v]))
