"""Our NAB scorer against hand-computed cases and the real corpus' null and perfect detectors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from opsgraph.bench.nab.corpus import CostMatrix, DataFile, load_corpus
from opsgraph.bench.nab.run import score_files
from opsgraph.bench.nab.scoring import (
    best_threshold,
    file_score,
    probation_length,
    row_weights,
    scaled_sigmoid,
)

STANDARD = CostMatrix(tp=1.0, fp=0.11, fn=1.0)


def _file(n: int, windows: list[tuple[int, int]]) -> DataFile:
    ts = np.arange(n, dtype=float) * 300
    return DataFile("cat/x.csv", [str(t) for t in ts], ts, np.zeros(n), windows)


def test_scaled_sigmoid_landmarks() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(0.0) == pytest.approx(0.0)
    assert scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert scaled_sigmoid(3.0) == -1.0


def test_probation() -> None:
    assert probation_length(1000) == 150
    assert probation_length(10_000) == 750


def test_hand_computed_file() -> None:
    f = _file(1000, [(400, 499)])  # probation: rows 0-149
    w = row_weights(f)
    scores = np.zeros(1000)
    scores[[100, 420, 450, 300, 505]] = 1.0  # probation, TP, TP again, FP before, FP just after
    total, counts = file_score(w, scores, 0.5, STANDARD)
    tp = scaled_sigmoid(-(499 - 420 + 1) / 100) / scaled_sigmoid(-1.0)
    fp_before = -1.0 * 0.11  # no window before it: the full FP cost
    fp_after = scaled_sigmoid(abs(499 - 505) / 99) * 0.11
    assert total == pytest.approx(tp + fp_before + fp_after)
    assert counts == {"tp": 1, "fp": 2, "fn": 0}
    total, counts = file_score(w, np.zeros(1000), 0.5, STANDARD)
    assert total == -1.0 and counts["fn"] == 1


def test_best_threshold_matches_a_brute_force_sweep() -> None:
    rng = np.random.default_rng(0)
    files = [_file(600, [(200, 259)]), _file(800, [(300, 349), (600, 639)])]
    weights = [row_weights(f) for f in files]
    scores = [rng.random(600) ** 8, rng.random(800) ** 8]
    scores[0][210] = 0.99
    scores[1][305] = 0.98
    threshold, total = best_threshold(weights, scores, STANDARD)
    candidates = sorted({float(x) for s in scores for x in s})
    brute = max(
        (sum(file_score(w, s, t, STANDARD)[0] for w, s in zip(weights, scores, strict=True)), t)
        for t in candidates
    )
    assert total == pytest.approx(brute[0])
    assert math.isclose(
        sum(file_score(w, s, threshold, STANDARD)[0] for w, s in zip(weights, scores, strict=True)),
        total,
    )


def test_null_and_perfect_detectors_on_the_corpus(shared_data: Path) -> None:
    nab = shared_data / "nab"
    corpus = load_corpus(nab)
    assert len(corpus.files) == 58 and set(corpus.profiles) == {
        "standard",
        "reward_low_FP_rate",
        "reward_low_FN_rate",
    }
    weights = [row_weights(f) for f in corpus.files]
    null = score_files(corpus, weights, [np.zeros(len(f.values)) for f in corpus.files])
    perfect_scores = []
    for f in corpus.files:
        s = np.zeros(len(f.values))
        for left, _ in f.windows:
            s[left] = 1.0
        perfect_scores.append(s)
    perfect = score_files(corpus, weights, perfect_scores)
    for profile in corpus.profiles:
        assert null[profile]["score"] == 0.0
        assert perfect[profile]["score"] == pytest.approx(100.0, abs=0.01)
        assert perfect[profile]["fp"] == 0
