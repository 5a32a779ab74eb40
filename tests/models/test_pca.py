"""The PCA-residual detector: fitted on history, causal smoothing, attribution by signal."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.models.pca import PcaResidualDetector


def _history(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 1, n)
    # Three signals that move together and one of their own.
    return np.column_stack([base, 2 * base, -base, rng.normal(0, 1, n)]) + rng.normal(
        0, 0.05, (n, 4)
    )


def test_a_broken_relation_scores_and_is_attributed_to_its_signal() -> None:
    detector = PcaResidualDetector(smooth=1)
    detector.fit(_history(2000))
    test = _history(200, seed=1)
    test[100, 1] = -2 * test[100, 0]  # signal 1 leaves its relation to signal 0
    scores = detector.score(test)
    assert int(np.argmax(scores)) == 100
    shares = detector.attribution(test)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert int(np.argmax(shares[100])) in (0, 1) and shares[100, 1] > 0.3


def test_smoothing_is_a_causal_mean_of_the_last_rows() -> None:
    raw = PcaResidualDetector(smooth=1)
    smooth = PcaResidualDetector(smooth=4)
    history = _history(1000)
    raw.fit(history)
    smooth.fit(history)
    test = _history(50, seed=2)
    r, s = raw.score(test), smooth.score(test)
    assert s[0] == pytest.approx(r[0])
    assert s[10] == pytest.approx(r[7:11].mean())
    # A later row never changes an earlier score.
    np.testing.assert_allclose(smooth.score(test[:20]), s[:20])


def test_missing_values_take_the_training_median_and_bad_input_is_refused() -> None:
    detector = PcaResidualDetector()
    detector.fit(_history(500))
    test = _history(30, seed=3)
    test[5, 2] = np.nan
    assert np.isfinite(detector.score(test)).all()
    with pytest.raises(ValueError, match="variance"):
        PcaResidualDetector(variance=1.5)
    with pytest.raises(ValueError, match="constant"):
        PcaResidualDetector().fit(np.ones((50, 3)))
    with pytest.raises(RuntimeError, match="fit"):
        PcaResidualDetector().score(test)
