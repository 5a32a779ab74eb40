"""Node features and simulated training windows."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import SIGNALS
from opsgraph.models.gnn.features import (
    FEATURES,
    GraphWindow,
    healthy_baseline,
    node_features,
)
from opsgraph.models.gnn.training import windows_from_table
from opsgraph.runtime.training import SAMPLE_AT, sim_windows


def _window(rows: int = 20, nodes: int = 3) -> GraphWindow:
    rng = np.random.default_rng(0)
    base = np.array([40.0, 50.0, 80.0, 0.01, 100.0])
    values = base * (1 + 0.02 * rng.standard_normal((rows, nodes, len(SIGNALS))))
    return GraphWindow([f"n{i}" for i in range(nodes)], values, edges=[[0, 1], [1, 2]])


def test_a_jump_shows_in_z_and_ratio_of_that_signal_only() -> None:
    w = _window()
    w.values[-3:, 1, 2] *= 8  # node 1 latency x8 in the recent rows
    f = node_features(w)
    assert f.shape == (3, len(FEATURES))
    z = dict(zip(FEATURES, f[1], strict=True))
    assert z["latency_ms_z"] > 2.5 and z["latency_ms_ratio"] > 1.5
    assert abs(node_features(w)[0, FEATURES.index("latency_ms_z")]) < 1.5
    assert abs(z["cpu_z"]) < 1.5


def test_no_history_falls_back_to_the_healthy_baseline_of_the_kind() -> None:
    w = _window()
    w.kinds = ["rds", "rds", "ec2"]
    baseline = healthy_baseline([w], None)
    now = GraphWindow(["a"], np.array([[[40.0, 50.0, 800.0, 0.01, 100.0]]]), kinds=["rds"])
    f = node_features(now, baseline)
    assert f[0, FEATURES.index("latency_ms_z")] > 2.5
    assert np.isfinite(node_features(now)).all()  # no baseline at all: zeros, not NaN


def test_windows_are_checked() -> None:
    with pytest.raises(InvalidInputError, match="values"):
        GraphWindow(["a"], np.zeros((4, 2, 5)))
    with pytest.raises(InvalidInputError, match="edges"):
        GraphWindow(["a", "b"], np.zeros((4, 2, 5)), edges=[[0], [2]])
    w = _window()
    assert w.undirected_edges().shape == (2, 4)
    sub = w.subset([2, 1])
    assert sub.node_ids == ["n2", "n1"] and sub.edges.tolist() == [[1], [0]]


def test_sim_windows_label_the_ground_truth_of_each_fault() -> None:
    data = sim_windows(30, 3, incidents=4, fault_kinds=["cpu_hog", "error_burst"])
    assert len(data) == 4 * (1 + len(SAMPLE_AT))
    assert data.kinds[:3] == ["", "cpu_hog", "cpu_hog"]
    assert not data.labels[0].any() and data.labels[1].any()
    assert all(w.values.shape == (20, 30, 5) for w in data.windows)
    assert len(data.only(["error_burst"])) == 2 * len(SAMPLE_AT)


def test_windows_from_a_wide_table() -> None:
    nodes = ["a", "a", "b"]
    metrics = ["cpu", "latency_ms", "cpu"]
    values = np.random.default_rng(1).random((30, 3))
    windows = windows_from_table(nodes, metrics, values, [("a", "b")], stride=5)
    assert len(windows) == 3 and windows[0].node_ids == ["a", "b"]
    assert np.isnan(windows[0].values[:, 1, 2]).all()  # b has no latency
    with pytest.raises(InvalidInputError, match="no metrics"):
        windows_from_table(nodes, metrics, values, [("a", "zz")])
    with pytest.raises(InvalidInputError, match="signals"):
        windows_from_table(["a"], ["disk"], values[:, :1], [])
    with pytest.raises(InvalidInputError, match="rows"):
        windows_from_table(nodes, metrics, values[:5], [])
