"""Autoencoder and VAE: reconstruction scores, per-signal attribution, threshold, drift."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.models.autoencoder import AutoencoderDetector


def _normal(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 1))
    return np.hstack([base, 2 * base + 0.1 * rng.normal(size=(n, 1)), rng.normal(size=(n, 1))])


@pytest.mark.parametrize("variational", [False, True])
def test_scores_attribution_threshold_and_drift(variational: bool) -> None:
    det = AutoencoderDetector(variational=variational, epochs=60)
    det.fit(_normal(1000))
    assert det.name == ("vae" if variational else "autoencoder")
    assert np.isfinite(det.threshold)
    test = _normal(200, seed=1)
    broken = test.copy()
    broken[50, 1] += 6.0  # the second signal leaves its relation with the first
    scores = det.score(broken)
    assert scores[50] > det.threshold and scores[50] > np.percentile(scores, 95)
    # Attribution: a large shift of the independent third signal is put on that signal
    # (between correlated signals a broken relation is shared, so it is not asserted there).
    shifted = test.copy()
    shifted[80, 2] += 8.0
    attribution = det.attribution(shifted)
    rise = attribution[80] - np.median(attribution, axis=0)
    assert int(np.argmax(rise)) == 2
    assert det.drift(_normal(500, seed=2)).retrain is False
    shifted = _normal(500, seed=3) * 3.0 + 2.0
    drift = det.drift(shifted)
    assert drift.retrain and drift.ks > 0.2 and "retrain" in drift.describe()


def test_bad_parameters_and_unfitted_use() -> None:
    with pytest.raises(ValueError):
        AutoencoderDetector(percentile=100.0)
    with pytest.raises(RuntimeError, match="fit"):
        AutoencoderDetector().score(_normal(20))
