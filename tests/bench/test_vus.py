"""VUS-PR and its window against TSB-AD's own figures (TSB-AD 1.5, `generate_curve(...)[-1]` and
`find_length_rank(..., rank=1)`, computed outside this suite on the same arrays), plus the
properties that hold for any scores."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.bench.vus import DEFAULT_WINDOW, period_window, segments, vus_pr


def _case(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segments at both ends, a lone point, two segments 6 rows apart; tied scores."""
    rng = np.random.default_rng(seed)
    n = 800
    y = np.zeros(n, dtype=int)
    y[0:6] = 1
    y[200:230] = 1
    y[236:240] = 1
    y[500:501] = 1
    y[790:] = 1
    scores = np.round(rng.random(n) + 0.8 * y * rng.random(n), 2)
    series = np.sin(2 * np.pi * np.arange(n) / 48) + rng.normal(0, 0.3, n)
    return scores, y, series


@pytest.mark.parametrize(
    ("seed", "window", "reference"),
    [(1, 0, 0.419760651972946), (2, 9, 0.5091999420869456), (3, 48, 0.6076009972897201)],
)
def test_matches_tsb_ad(seed: int, window: int, reference: float) -> None:
    scores, labels, series = _case(seed)
    assert vus_pr(scores, labels, window) == pytest.approx(reference, abs=1e-9)
    assert period_window(series) == 48


def test_segments_are_inclusive_pairs() -> None:
    assert segments([1, 1, 0, 0, 1, 0, 1]) == [(0, 1), (4, 4), (6, 6)]
    assert segments([0, 0]) == [] and segments([]) == []


def test_perfect_scores_beat_random_and_random_sits_near_the_floor() -> None:
    _, labels, _ = _case(4)
    rng = np.random.default_rng(0)
    perfect = vus_pr(labels.astype(float) + 1e-3 * rng.random(labels.size), labels, 20)
    noise = [vus_pr(rng.random(labels.size), labels, 20) for _ in range(5)]
    assert perfect > 0.9
    assert max(noise) < 0.3 < perfect


def test_no_period_gives_the_default_window() -> None:
    assert period_window(np.ones(500)) == DEFAULT_WINDOW
    assert period_window(np.random.default_rng(1).normal(size=5)) == DEFAULT_WINDOW


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="scores for"):
        vus_pr([0.1, 0.2], [0, 1, 0], 5)
    with pytest.raises(ValueError, match="finite"):
        vus_pr([0.1, float("nan")], [0, 1], 5)
    assert np.isnan(vus_pr([0.1, 0.2], [0, 0], 5))
