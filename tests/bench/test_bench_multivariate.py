"""`opsgraph bench multivariate` on a small run, and its metrics on known cases."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.bench.multivariate import average_precision, roc_auc, run_multivariate_bench


def test_metrics() -> None:
    y = np.array([False, False, True, True])
    assert roc_auc(np.array([0.1, 0.2, 0.8, 0.9]), y) == 1.0
    assert roc_auc(np.array([0.5, 0.5, 0.5, 0.5]), y) == 0.5
    assert average_precision(np.array([0.1, 0.2, 0.8, 0.9]), y) == 1.0
    # Ranked F, T, F, T: precision 1/2 at each hit.
    assert average_precision(np.array([0.9, 0.2, 0.8, 0.1]), y) == pytest.approx(0.5)


def test_small_run() -> None:
    report = run_multivariate_bench(resources=12, days=0.3, every=60, sample=4)
    assert report["resources_evaluated"] >= 1
    for row in report["results"]:
        assert 0.0 <= row["roc_auc"] <= 1.0 and 0.0 < row["average_precision"] <= 1.0
