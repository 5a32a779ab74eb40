"""The contract of detectors fitted on history, run over every registered batch detector."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from opsgraph.core.errors import ConfigError
from opsgraph.models.multivariate import MultivariateEnsemble
from opsgraph.models.plugins import available_batch, create_batch_detector

NAMES = sorted(available_batch())


def _data(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 1))
    # Correlated signals: the joint pattern matters, not only each signal alone.
    return np.hstack([base + 0.1 * rng.normal(size=(n, 1)), 2 * base, rng.normal(size=(n, 2))])


def test_the_four_models_are_registered() -> None:
    assert {"iforest", "ocsvm", "lof", "ecod"} <= set(NAMES)
    with pytest.raises(ConfigError, match="unknown batch detector"):
        create_batch_detector("oracle")


@pytest.mark.parametrize("name", NAMES)
def test_fit_score_pickle_and_no_look_ahead(name: str) -> None:
    det = create_batch_detector(name)
    det.fit(_data(800))
    test = _data(300, seed=1)
    scores = det.score(test)
    assert scores.shape == (300,) and np.all(np.isfinite(scores))
    twin = pickle.loads(pickle.dumps(det))
    np.testing.assert_array_equal(twin.score(test), scores)
    later = test.copy()
    later[200:] += 50.0  # a different future
    np.testing.assert_array_equal(det.score(later)[:200], scores[:200])


@pytest.mark.parametrize("name", NAMES)
def test_ranks_anomalies_above_normal_rows(name: str) -> None:
    det = create_batch_detector(name)
    det.fit(_data(800))
    test = _data(400, seed=2)
    labels = np.zeros(400, dtype=bool)
    labels[::40] = True
    test[labels, 1] *= -1.0  # breaks the correlation, each value alone looks normal
    test[labels, 1] += 3.0
    scores = det.score(test)
    assert scores[labels].mean() > scores[~labels].mean()


@pytest.mark.parametrize("name", NAMES)
def test_nan_and_tiny_history(name: str) -> None:
    det = create_batch_detector(name)
    train = _data(200)
    train[::7, 0] = np.nan
    det.fit(train)
    test = _data(20, seed=3)
    test[3] = np.nan
    assert np.all(np.isfinite(det.score(test)))
    with pytest.raises(ValueError, match="10 rows"):
        create_batch_detector(name).fit(_data(5))


def test_ensemble_probabilities() -> None:
    ens = MultivariateEnsemble(["ecod", "iforest"])
    ens.fit(_data(800))
    normal = _data(200, seed=4)
    weird = normal.copy()
    weird[:, 3] += 25.0
    p_normal, per = ens.score(normal)
    p_weird, _ = ens.score(weird)
    assert per.shape == (200, 2) and np.all((p_normal >= 0) & (p_normal <= 1))
    # ECOD and Isolation Forest saturate beyond the training range, so one signal far off is
    # clearly but not extremely anomalous to them (detect score adds per-signal streaming).
    assert np.median(p_normal) < 0.9
    assert np.median(p_weird) > np.percentile(p_normal, 90)
