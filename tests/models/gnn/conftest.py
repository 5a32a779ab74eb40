"""Small simulated graph data and quickly trained graph detectors, shared by the gnn tests."""

from __future__ import annotations

import pytest

from opsgraph.models.gnn.dataset import LabelledWindows
from opsgraph.models.gnn.detector import GraphSageDetector
from opsgraph.runtime.training import sim_windows


@pytest.fixture(scope="session")
def train_data() -> LabelledWindows:
    data = sim_windows(40, 1, incidents=16)
    data.extend(sim_windows(30, 2, incidents=8))
    return data


@pytest.fixture(scope="session")
def test_data() -> LabelledWindows:
    return sim_windows(50, 21, incidents=8)


@pytest.fixture(scope="session")
def graphsage(train_data: LabelledWindows) -> GraphSageDetector:
    detector = GraphSageDetector(epochs=40, seed=0)
    detector.fit(train_data.windows, train_data.labels)
    return detector
