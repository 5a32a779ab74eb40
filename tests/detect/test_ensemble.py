"""The calibrated ensemble: per-member calibration, Bonferroni over the tail-calibrated
members, max over all."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.detect.cusum import CusumDetector
from opsgraph.detect.ensemble import CalibratedEnsemble
from opsgraph.detect.new_level import NewLevelDetector
from opsgraph.detect.robust_z import RobustZDetector

ONE = np.array([0], dtype=np.int64)


def _trained(ensemble: CalibratedEnsemble) -> CalibratedEnsemble:
    ensemble.reserve(1)
    rng = np.random.default_rng(3)
    for v in rng.normal(10, 1, 400):
        ensemble.step(ONE, np.array([v]))
    return ensemble


def test_tail_probabilities_are_multiplied_by_the_number_of_tail_members() -> None:
    ensemble = _trained(
        CalibratedEnsemble(
            [RobustZDetector(window=30), CusumDetector(window=60), NewLevelDetector(window=20)]
        )
    )
    assert ensemble.correction == 2.0, "new_level calibrates itself: two tail members"
    for value in (10.5, 12.5, 13.5):
        best, _, raws = ensemble.score(ONE, np.array([value]))
        own = [c.probability(ONE, r)[0] for c, r in zip(ensemble.calibrators, raws, strict=True)]
        corrected = [max(1.0 - 2.0 * (1.0 - p), 0.0) for p in own[:2]]
        assert best[0] == pytest.approx(max(*corrected, own[2]))
    # A point far beyond the warm-up: new_level's own confidence is not corrected.
    best, _, _ = ensemble.score(ONE, np.array([40.0]))
    assert best[0] >= 0.9999


def test_one_tail_member_is_not_corrected() -> None:
    single = _trained(CalibratedEnsemble([RobustZDetector(window=30)]))
    assert single.correction == 1.0
    best, _, raws = single.score(ONE, np.array([13.0]))
    assert best[0] == single.calibrators[0].probability(ONE, raws[0])[0]


def test_the_ensemble_reports_how_far_a_point_is_beside_how_rare() -> None:
    from opsgraph.detect.tail_ensemble import TailEnsembleDetector

    det = TailEnsembleDetector("robust_z@60,cusum@60")
    det.reserve(2)
    idx = np.arange(2)
    rng = np.random.default_rng(0)
    for _ in range(200):
        det.score(idx, rng.normal(size=2))
        det.learn(idx, rng.normal(size=2))
    surprise, _ = det.score(idx, np.array([0.0, 25.0]))
    z = det.magnitude()
    assert z is not None and z[0] < 2.0 and z[1] > 15.0
    assert surprise[1] > surprise[0]
    assert TailEnsembleDetector("cusum@60").magnitude() is None
