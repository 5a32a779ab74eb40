"""Explanations of GraphSAGE node scores: SHAP blended with GNNExplainer, and the fallback."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import SIGNALS
from opsgraph.explain.attribution import EDGE_CUTOFF, explain_node
from opsgraph.models.gnn.dataset import LabelledWindows
from opsgraph.models.gnn.detector import GraphSageDetector
from opsgraph.models.gnn.features import FEATURES, GraphWindow
from opsgraph.runtime.training import sim_windows

EPOCHS = 30


@pytest.fixture(scope="module")
def data() -> LabelledWindows:
    return sim_windows(40, 1, incidents=16)


@pytest.fixture(scope="module")
def detector(data: LabelledWindows) -> GraphSageDetector:
    detector = GraphSageDetector(epochs=30)
    detector.fit(data.windows, data.labels)
    return detector


def _hottest_affected(
    detector: GraphSageDetector, data: LabelledWindows, kind: str
) -> list[tuple[GraphWindow, int]]:
    """(window, its highest-scoring labelled node) for every window of the fault kind."""
    out = []
    for window, labels, k in zip(data.windows, data.labels, data.kinds, strict=True):
        if k == kind:
            scores = detector.score(window)
            hit = np.flatnonzero(labels)
            out.append((window, int(hit[np.argmax(scores[hit])])))
    return out


def test_importance_is_per_signal_and_sums_to_one(
    detector: GraphSageDetector, data: LabelledWindows
) -> None:
    window, node = _hottest_affected(detector, data, "memory_leak")[0]
    detector.model.train()
    ex = explain_node(detector, window, node, gnn_epochs=EPOCHS)
    assert not detector.model.training
    assert ex.method == "shap+gnnexplainer" and ex.fallback_reason is None
    assert ex.node_id == window.node_ids[node]
    assert ex.score == pytest.approx(float(detector.score(window)[node]), abs=1e-6)
    assert list(ex.feature_importance) == list(SIGNALS)
    assert sum(ex.feature_importance.values()) == pytest.approx(1.0, abs=1e-3)
    assert list(ex.feature_detail) == list(FEATURES)
    assert sum(ex.feature_detail.values()) == pytest.approx(1.0, abs=1e-3)
    assert min(ex.feature_detail.values()) >= 0.0
    payload = ex.to_json()
    assert json.loads(json.dumps(payload)) == payload


def test_top_signal_of_a_cpu_hog_is_its_most_deviant_signal(
    detector: GraphSageDetector, data: LabelledWindows
) -> None:
    z_cols = [FEATURES.index(f"{s}_z") for s in SIGNALS]
    cases = _hottest_affected(detector, data, "cpu_hog")
    assert cases
    for i, (window, node) in enumerate(cases):
        x = detector.features(window)[node]
        deviant = SIGNALS[int(np.argmax(np.abs(x[z_cols])))]
        assert deviant == "cpu"
        ex = explain_node(detector, window, node, gnn_epochs=EPOCHS)
        assert ex.score >= detector.threshold
        ranked = sorted(ex.feature_importance, key=ex.feature_importance.__getitem__)[::-1]
        # The first case agrees exactly on every seed tried; later ones at times put the
        # latency the hog causes first, by a hair, so they only need cpu in the top two.
        assert deviant == ranked[0] if i == 0 else deviant in ranked[:2]


def test_important_subgraph_edges_pass_the_cutoff_and_name_window_nodes(
    detector: GraphSageDetector, data: LabelledWindows
) -> None:
    window, node = _hottest_affected(detector, data, "cpu_hog")[0]
    ex = explain_node(detector, window, node, gnn_epochs=EPOCHS)
    ids = set(window.node_ids)
    assert ex.important_edges
    for edge in ex.important_edges:
        assert edge["importance"] >= EDGE_CUTOFF
        assert edge["source"] in ids and edge["target"] in ids
    weights = [n["importance"] for n in ex.important_nodes]
    assert 0 < len(weights) <= 10 and weights == sorted(weights, reverse=True)
    assert max(weights) == 1.0 and {n["node"] for n in ex.important_nodes} <= ids


def test_same_seed_same_explanation_and_global_rngs_untouched(
    detector: GraphSageDetector, data: LabelledWindows
) -> None:
    window, node = _hottest_affected(detector, data, "error_burst")[0]
    np_state, torch_state = np.random.get_state()[1].copy(), torch.random.get_rng_state()
    first = explain_node(detector, window, node, gnn_epochs=EPOCHS, seed=3)
    again = explain_node(detector, window, node, gnn_epochs=EPOCHS, seed=3)
    assert first.to_json() == again.to_json()
    assert np.array_equal(np.random.get_state()[1], np_state)
    assert torch.equal(torch.random.get_rng_state(), torch_state)


def test_a_flat_model_falls_back_to_z_deviation(
    detector: GraphSageDetector, data: LabelledWindows
) -> None:
    flat = copy.deepcopy(detector)
    conv3 = flat.model.conv3
    with torch.no_grad():
        conv3.lin_l.weight.zero_()
        conv3.lin_r.weight.zero_()
        conv3.lin_l.bias.fill_(-2.0)
    window, node = _hottest_affected(detector, data, "cpu_hog")[0]
    ex = explain_node(flat, window, node, gnn_epochs=EPOCHS)
    assert ex.method == "zscore-fallback"
    assert ex.fallback_reason and "flat" in ex.fallback_reason
    assert ex.score == pytest.approx(float(torch.sigmoid(torch.tensor(-2.0))), abs=1e-6)
    # Every node is healthy under the flat model, so the baseline is the window's mean row.
    x = flat.features(window)
    expected = np.abs(x[node] - x.mean(axis=0))
    assert list(ex.feature_detail.values()) == pytest.approx(expected / expected.sum(), abs=1e-4)
    assert sum(ex.feature_importance.values()) == pytest.approx(1.0, abs=1e-3)


def test_an_isolated_node_is_explained_without_edges(
    detector: GraphSageDetector, data: LabelledWindows
) -> None:
    window, node = _hottest_affected(detector, data, "cpu_hog")[0]
    ex = explain_node(detector, window.subset([node]), 0, gnn_epochs=EPOCHS)
    assert ex.important_edges == []
    assert sum(ex.feature_importance.values()) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("node", [-1, 40, True, 2.0])
def test_a_bad_node_index_is_rejected(
    detector: GraphSageDetector, data: LabelledWindows, node: object
) -> None:
    with pytest.raises(InvalidInputError) as err:
        explain_node(detector, data.windows[0], node)  # type: ignore[arg-type]
    assert err.value.field == "node"


def test_an_unfitted_detector_is_rejected(data: LabelledWindows) -> None:
    with pytest.raises(InvalidInputError) as err:
        explain_node(GraphSageDetector(epochs=1), data.windows[0], 0)
    assert err.value.field == "detector"
