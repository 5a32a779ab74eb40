"""The new-level detector: bands of the warm-up range, novelty of a band never visited."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.detect.ensemble import CalibratedEnsemble
from opsgraph.detect.new_level import NewLevelDetector
from opsgraph.detect.robust_z import RobustZDetector

ONE = np.array([0], dtype=np.int64)


def _feed(det: NewLevelDetector, values: list[float], series: int = 0) -> list[float]:
    idx = np.array([series], dtype=np.int64)
    out = []
    for v in values:
        raw, _ = det.score(idx, np.array([v]))
        det.learn(idx, np.array([v]))
        out.append(float(raw[0]))
    return out


def _warmed() -> NewLevelDetector:
    """Warm-up 0..10 with a hole: bands of width 1 (10 bands), band 5 never visited."""
    det = NewLevelDetector(window=10, bins=10, margin=4)
    det.reserve(2)
    scores = _feed(det, [0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    assert all(np.isnan(s) for s in scores), "nothing is judged while warming up"
    return det


def test_familiar_bands_score_zero_and_new_ones_score_their_distance() -> None:
    det = _warmed()
    assert _feed(det, [3.5, 9.9, 0.2]) == [0.0, 0.0, 0.0]
    # Band 10 holds the warm-up's top (10.0): 12.5 is band 12, two bands further out.
    assert _feed(det, [12.5]) == [2.0]
    # Now bands up to 12 are the seen extreme; 11 is a hole between seen bands.
    assert _feed(det, [12.1, 11.5, 11.2]) == [0.0, 1.0, 0.0]
    assert _feed(det, [-3.5]) == [4.0]


def test_a_hole_inside_the_range_is_new_once() -> None:
    det = _warmed()
    assert _feed(det, [5.5, 5.2]) == [1.0, 0.0]


def test_far_beyond_the_tracked_bands_only_the_extremes_count() -> None:
    det = _warmed()  # bits for bands -4 .. 14
    assert _feed(det, [100.5, 50.5]) == [90.0, 0.0]  # 50 lies between seen extremes
    assert _feed(det, [1e300]) == [pytest.approx(1e12 - 100)]


def test_a_refused_point_stays_new() -> None:
    det = _warmed()
    raw, _ = det.score(ONE, np.array([20.0]))
    det.learn(ONE, np.array([20.0]), accept=np.array([False]))
    assert raw[0] > 0
    assert _feed(det, [20.0]) == [raw[0]]


def test_series_keep_their_own_bands_and_warm_up() -> None:
    det = _warmed()
    # Series 1 has seen nothing: still warming up while series 0 judges.
    raw, expected = det.score(np.array([0, 1]), np.array([50.0, 50.0]))
    assert raw[0] > 0 and np.isnan(raw[1])
    assert expected[0] == pytest.approx(11.0)  # the top of the seen range


def test_flat_warm_up_gets_bands_of_a_tenth_of_its_level() -> None:
    det = NewLevelDetector(window=5, bins=16)
    det.reserve(1)
    _feed(det, [20.0] * 5)
    assert _feed(det, [21.0, 22.5, 19.5]) == [0.0, 1.0, 1.0]


def test_it_calibrates_itself_in_an_ensemble() -> None:
    level = NewLevelDetector(window=20, bins=4, confidence=0.9999)
    ensemble = CalibratedEnsemble([level])
    ensemble.reserve(1)
    rng = np.random.default_rng(0)
    for v in rng.normal(10, 1, 60):
        ensemble.step(ONE, np.array([v]))
    p, _ = ensemble.step(ONE, np.array([50.0]))
    assert p[0] == 0.9999, "a novel level is the member's own confidence, no tail fit"
    p, _ = ensemble.step(ONE, np.array([10.0]))
    assert p[0] == 0.0


def test_the_ensemble_keeps_tail_calibration_for_other_members() -> None:
    ensemble = CalibratedEnsemble([RobustZDetector(window=30), NewLevelDetector(window=20)])
    assert type(ensemble.calibrators[0]).__name__ == "TailCalibrator"
    assert type(ensemble.calibrators[1]).__name__ == "_OwnCalibration"


@pytest.mark.parametrize(
    "kwargs", [{"window": 1}, {"bins": 0}, {"margin": -1}, {"confidence": 1.0}]
)
def test_refuses_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        NewLevelDetector(**kwargs)  # type: ignore[arg-type]
