"""BARO, the baseline of `bench rca`: its change-point onset and its RobustScorer."""

from __future__ import annotations

import numpy as np

from opsgraph.bench.rca_baro import (
    baro_abs_ranker,
    baro_ranker,
    bocpd_onset,
    robust_scorer,
    run_length_posterior,
)
from opsgraph.bench.rca_case import Case


def _case(rows: int = 120, start: int = 70, seed: int = 0) -> Case:
    rng = np.random.default_rng(seed)
    nodes = ["api", "api", "db", "db", "web", "web"]
    metrics = ["cpu", "mem", "cpu", "mem", "cpu", "latency"]
    level = np.array([20.0, 3e8, 10.0, 5e8, 30.0, 100.0])
    values = level * (1 + 0.03 * rng.standard_normal((rows, 6)))
    values[start:, 2] *= 6  # the db's cpu
    values[start + 1 :, 5] *= 1.5  # then the web's latency
    return Case(
        name="synthetic",
        kind="cpu",
        nodes=nodes,
        metrics=metrics,
        values=values,
        fault_row=start,
        edges=[],
        members=[],
        root="db",
        affected=None,
    )


def test_run_length_posterior_is_a_distribution() -> None:
    x = np.random.default_rng(1).random((30, 3))
    posterior = run_length_posterior(x)
    assert posterior.shape == (31, 31)
    assert np.allclose(posterior.sum(axis=0), 1.0)
    assert np.allclose(np.tril(posterior, -1), 0.0)  # no run longer than the rows seen


def test_bocpd_finds_a_change_point_it_was_not_told() -> None:
    case = _case()
    assert abs(bocpd_onset(case.values) - 70) <= 1
    # rows before `start` are another recording: the onset is searched after it
    assert bocpd_onset(case.values, start=60) >= 61
    assert bocpd_onset(case.values[:3]) in (1, 2)


def test_robust_scorer_ranks_the_moved_node_first() -> None:
    case = _case()
    assert robust_scorer(case, 70).order[0] == "db"
    assert baro_ranker(case).order[0] == "db"
    assert baro_abs_ranker(case).order[0] == "db"
    assert sorted(baro_ranker(case).order) == ["api", "db", "web"]


def test_a_fall_counts_only_in_absolute_value() -> None:
    case = _case()
    case.values[70:, [2, 5]] = case.values[:70, [2, 5]].mean(axis=0)  # no rise anywhere
    case.values[70:, 4] *= 0.01  # the web's cpu collapses
    assert robust_scorer(case, 70, absolute=True).order[0] == "web"
    assert robust_scorer(case, 70).order[0] != "web"
