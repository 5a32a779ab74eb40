"""The graph detector contract, run over every registered graph detector."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from opsgraph.core.errors import InvalidInputError
from opsgraph.models.gnn.contract import GraphDetector
from opsgraph.models.gnn.dataset import LabelledWindows
from opsgraph.models.gnn.features import GraphWindow
from opsgraph.models.plugins import available_graph, create_graph_detector

NAMES = sorted(available_graph())


def test_the_three_graph_detectors_are_registered() -> None:
    assert {"graphsage", "node_mlp", "graph_deviation"} <= set(NAMES)


@pytest.fixture(scope="module", params=NAMES)
def fitted(request: pytest.FixtureRequest, train_data: LabelledWindows) -> GraphDetector:
    detector = create_graph_detector(request.param, {"epochs": 30})
    detector.fit(train_data.windows, train_data.labels)
    return detector


def _scores(detector: GraphDetector, data: LabelledWindows) -> np.ndarray:
    return np.concatenate([detector.score(w) for w in data.windows])


def test_scores_are_probabilities_and_beat_chance(
    fitted: GraphDetector, test_data: LabelledWindows
) -> None:
    assert isinstance(fitted, GraphDetector)
    scores = _scores(fitted, test_data)
    assert np.isfinite(scores).all() and (scores >= 0).all() and (scores <= 1).all()
    assert roc_auc_score(np.concatenate(test_data.labels), scores) > 0.5
    assert 0 < fitted.threshold <= 1


def test_clone_pickle_and_saved_state_score_the_same(
    fitted: GraphDetector, test_data: LabelledWindows
) -> None:
    window = test_data.windows[2]
    expected = fitted.score(window)
    assert np.allclose(copy.deepcopy(fitted).score(window), expected)
    assert np.allclose(pickle.loads(pickle.dumps(fitted)).score(window), expected)
    fresh = create_graph_detector(fitted.name, {"epochs": 30})
    fresh.load_state(fitted.state())
    assert np.allclose(fresh.score(window), expected, atol=1e-6)


def test_scoring_keeps_no_state(fitted: GraphDetector, test_data: LabelledWindows) -> None:
    before = len(pickle.dumps(fitted))
    window = test_data.windows[1]
    first = fitted.score(window)
    for w in test_data.windows:
        fitted.score(w)
    assert np.array_equal(fitted.score(window), first)
    assert len(pickle.dumps(fitted)) == before


def test_node_order_does_not_matter(fitted: GraphDetector, test_data: LabelledWindows) -> None:
    window = test_data.windows[3]
    order = np.random.default_rng(0).permutation(window.n_nodes)
    shuffled = window.subset(order.tolist())
    assert np.allclose(fitted.score(shuffled), fitted.score(window)[order], atol=1e-5)


def test_rows_before_the_window_cannot_matter_and_nan_gaps_are_survived(
    fitted: GraphDetector, test_data: LabelledWindows
) -> None:
    window = test_data.windows[4]
    gappy = GraphWindow(window.node_ids, window.values.copy(), window.edges, window.kinds)
    gappy.values[::3, ::2, 1] = np.nan
    gappy.values[:, 0, :] = np.nan  # a node that reports nothing
    gappy.values[:, 1, :] = 5.0  # a flat node
    scores = fitted.score(gappy)
    assert np.isfinite(scores).all()
    single = GraphWindow(window.node_ids[:1], window.values[-1:, :1])
    assert np.isfinite(fitted.score(single)).all()


def test_supervised_detectors_refuse_missing_or_misshapen_labels(
    train_data: LabelledWindows,
) -> None:
    detector = create_graph_detector("graphsage", {"epochs": 1})
    with pytest.raises(InvalidInputError, match="labelled"):
        detector.fit(train_data.windows, None)
    with pytest.raises(InvalidInputError, match="labels"):
        detector.fit(train_data.windows[:2], [train_data.labels[0][:3], train_data.labels[1]])
    with pytest.raises(InvalidInputError, match="not fitted"):
        detector.score(train_data.windows[0])
