"""The contract every registered detector must keep, run over all of them automatically.

A plug-in that registers under `opsgraph.detectors` is held to the same checks: cloning and
pickling keep its behaviour, memory does not grow with the stream, a score never depends on
later data, it ranks labelled anomalies above normal points, and NaN, gaps and flat series
neither crash it nor raise warnings (warnings are errors in this suite).
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import numpy.typing as npt
import pytest

from opsgraph.detect.base import StreamingDetector
from opsgraph.detect.registry import available, create_detector

NAMES = sorted(available())
STEP = 300.0  # five-minute samples
T0 = 1_700_000_000.0


def _stream(n_steps: int, n_series: int = 3, seed: int = 0) -> npt.NDArray[np.float64]:
    """Daily seasonal series of different scales with noise: [steps, series]."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_steps)[:, None]
    scale = np.array([1.0, 50.0, 3000.0])[:n_series]
    daily = 1.0 + 0.3 * np.sin(2 * np.pi * t * STEP / 86_400)
    return scale * (10 * daily + rng.normal(0, 0.5, size=(n_steps, n_series)))


def _run(
    det: StreamingDetector, data: npt.NDArray[np.float64], start: int = 0
) -> npt.NDArray[np.float64]:
    n = data.shape[1]
    idx = np.arange(n)
    out = np.empty(data.shape)
    for k, row in enumerate(data):
        ts = np.full(n, T0 + (start + k) * STEP)
        raw, _ = det.score(idx, row, ts)
        det.learn(idx, row, ts=ts)
        out[k] = raw
    return out


def _fresh(name: str, n: int = 3) -> StreamingDetector:
    det = create_detector(name)
    det.reserve(n)
    return det


def _auc(scores: npt.NDArray[np.float64], labels: npt.NDArray[np.bool_]) -> float:
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    # Average ranks (1-based) for ties.
    ends = np.cumsum(counts)
    ranks = (ends - (counts - 1) / 2.0)[inverse]
    pos = labels.sum()
    neg = labels.size - pos
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


@pytest.mark.parametrize("name", NAMES)
def test_builds_with_defaults_and_names_itself(name: str) -> None:
    det = create_detector(name)
    assert isinstance(det, StreamingDetector) and det.name == name


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("how", ["clone", "pickle"])
def test_a_copy_behaves_the_same(name: str, how: str) -> None:
    data = _stream(700)
    det = _fresh(name)
    _run(det, data[:400])
    twin = copy.deepcopy(det) if how == "clone" else pickle.loads(pickle.dumps(det))
    a = _run(det, data[400:], start=400)
    b = _run(twin, data[400:], start=400)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_memory_does_not_grow_with_the_stream(name: str) -> None:
    det = _fresh(name)
    _run(det, _stream(600))
    size_early = len(pickle.dumps(det))
    _run(det, _stream(6000, seed=1), start=600)
    assert len(pickle.dumps(det)) <= 1.05 * size_early


@pytest.mark.parametrize("name", NAMES)
def test_no_look_ahead(name: str) -> None:
    data = _stream(900)
    other = data.copy()
    other[600:] = other[600:] * 5 + 100  # a different future
    a = _run(_fresh(name), data)
    b = _run(_fresh(name), other)
    np.testing.assert_array_equal(a[:600], b[:600])


@pytest.mark.parametrize("name", NAMES)
def test_ranks_labelled_anomalies_above_normal_points(name: str) -> None:
    rng = np.random.default_rng(7)
    data = _stream(288 * 6)
    labels = np.zeros(data.shape, dtype=bool)
    for start in rng.choice(np.arange(288 * 2, data.shape[0] - 20), size=12, replace=False):
        length = int(rng.integers(1, 6))
        series = int(rng.integers(0, data.shape[1]))
        sign = rng.choice([-1.0, 1.0])
        data[start : start + length, series] += sign * 8 * data[:, series].std()
        labels[start : start + length, series] = True
    scores = _run(_fresh(name), data)
    scored = np.arange(data.shape[0]) >= 288 * 2
    s = np.nan_to_num(scores[scored], nan=0.0).ravel()
    auc = _auc(s, labels[scored].ravel())
    assert auc > 0.5, f"{name}: ROC-AUC {auc:.3f}"


@pytest.mark.parametrize("name", NAMES)
def test_nan_gaps_flat_series_and_subsets(name: str) -> None:
    det = _fresh(name, n=4)
    rng = np.random.default_rng(3)
    for k in range(800):
        values = np.array([5.0, rng.normal(10, 1), np.nan, 0.0])  # flat, noisy, all-NaN, zeros
        if k % 7 == 0:
            values[1] = np.nan  # gaps in a live series
        gap_days = 3 if k >= 400 else 0  # a three-day hole in time halfway
        ts = np.full(4, T0 + k * STEP + gap_days * 86_400)
        idx = np.arange(4)
        if k % 5 == 0:  # some batches carry only some series, in another order
            idx = np.array([3, 1])
            values, ts = values[idx], ts[idx]
        raw, expected = det.score(idx, values, ts)
        det.learn(idx, values, ts=ts)
        assert raw.shape == expected.shape == idx.shape
        assert not np.any(raw < 0), "raw scores are never negative"
        assert np.all(np.isnan(raw) | np.isfinite(raw))
    flat_raw, _ = det.score(np.array([0]), np.array([5.0]), np.array([T0 + 801 * STEP]))
    assert np.isnan(flat_raw[0]) or flat_raw[0] < 1.0, "a flat series at its level is normal"
