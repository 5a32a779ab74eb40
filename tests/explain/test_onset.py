"""Fault onsets estimated from the metrics alone (explain/onset.py)."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.explain.onset import estimate_onset, noise_scale, onset_profile


def _noise(rows: int, cols: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 50.0 * (1 + 0.02 * rng.standard_normal((rows, cols)))


def test_a_step_in_a_few_series_is_found_at_its_row() -> None:
    values = _noise(80, 12)
    values[47:, 3] *= 4  # one series quadruples
    values[47:, 7] += 15  # another moves with it
    assert estimate_onset(values) == 47


def test_a_fault_that_ends_inside_the_window_is_found_at_its_start() -> None:
    values = _noise(70, 8, seed=1)
    values[60:64, 2] *= 10  # four rows, then back to normal
    assert estimate_onset(values) == 60


def test_spikes_elsewhere_do_not_outweigh_a_sustained_change() -> None:
    values = _noise(60, 20, seed=2)
    for col, row in ((4, 12), (9, 25), (15, 33)):
        values[row, col] *= 1000  # one-row spikes, clipped
    values[40:, 0] *= 3
    values[41:, 1] *= 3
    assert estimate_onset(values) == 40


def test_two_normal_rows_are_enough() -> None:
    values = _noise(12, 6, seed=3)
    values[2:, 1] *= 5
    values[2:, 4] *= 0.2
    assert estimate_onset(values) == 2
    assert estimate_onset(values, min_before=3) >= 3


def test_gaps_ramps_and_short_tables() -> None:
    values = _noise(40, 5, seed=4)
    values[::3, 0] = np.nan  # gaps are carried over, never judged
    values[:, 4] = np.nan  # an empty column is ignored
    values[25:, 2] += np.linspace(20, 200, 15)  # a ramp: found where it begins
    assert estimate_onset(values) in (25, 26)
    assert estimate_onset(np.array([[1.0, 2.0], [5.0, 2.0]])) == 1
    with pytest.raises(ValueError, match="two rows"):
        estimate_onset(np.ones((1, 3)))
    assert np.isinf(onset_profile(np.ones((1, 3)))).all()
    assert estimate_onset(np.ones((5, 0))) == 1  # no column: the earliest start allowed


def test_noise_ignores_a_step_but_not_the_level() -> None:
    values = np.concatenate([np.full(20, 10.0), np.full(20, 50.0)])[:, None]
    assert noise_scale(values)[0] == pytest.approx(0.3)  # 1 % of the median (30)
    rng = np.random.default_rng(5)
    noisy = values + rng.standard_normal(values.shape)
    assert 0.6 < noise_scale(noisy)[0] < 1.6  # the unit noise, not the step of 40
