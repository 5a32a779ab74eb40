"""The versioned model registry: versions grow, metadata round-trips, loads score the same."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest

from opsgraph.core.errors import NotFoundError
from opsgraph.models.gnn.contract import FitReport
from opsgraph.models.gnn.dataset import LabelledWindows
from opsgraph.models.gnn.detector import GraphSageDetector
from opsgraph.models.gnn.registry import ModelRegistry

REPORT = FitReport(
    epochs=3,
    best_epoch=1,
    best_val_loss=0.5,
    train_loss=[1, 0.6, 0.55],
    val_loss=[0.9, 0.5, 0.52],
    train_nodes=10,
    positives=2,
)


def test_versions_metadata_and_loss_curve(
    tmp_path: Path, graphsage: GraphSageDetector, test_data: LabelledWindows
) -> None:
    registry = ModelRegistry(tmp_path)
    assert registry.list() == []
    first = registry.save(graphsage, REPORT, data={"source": "test"}, metrics={"f1": 0.5})
    second = registry.save(graphsage, REPORT, data={"source": "test"}, metrics={"f1": 0.6})
    assert (first.version, second.version) == (1, 2)
    folder = Path(second.path)
    assert folder.name == "v0002" and (folder / "loss.svg").stat().st_size > 1000
    chart = ElementTree.parse(folder / "loss.svg").getroot()
    lines = chart.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 2 and all(len(line.get("points", "").split()) > 2 for line in lines)
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["metrics"] == {"f1": 0.6} and meta["config"]["epochs"] == 40
    assert meta["training"]["best_epoch"] == 1 and meta["created"].startswith("20")
    assert [m.version for m in registry.list("graphsage")] == [1, 2]
    loaded, info = registry.load("graphsage")
    assert info.version == 2
    window = test_data.windows[1]
    assert np.allclose(loaded.score(window), graphsage.score(window), atol=1e-6)
    assert registry.load("graphsage", 1)[1].version == 1


def test_unknown_models_and_half_written_versions(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    with pytest.raises(NotFoundError):
        registry.load("graphsage")
    (tmp_path / "graphsage" / ".tmp-crashed").mkdir(parents=True)
    (tmp_path / "graphsage" / "v0001").mkdir()  # no meta.json: never finished
    assert registry.list("graphsage") == []
    with pytest.raises(NotFoundError):
        registry.info("graphsage", 3)


def test_a_failed_save_leaves_nothing(tmp_path: Path) -> None:
    unfitted = GraphSageDetector(epochs=1)
    with pytest.raises(Exception, match="not fitted"):
        ModelRegistry(tmp_path).save(unfitted, REPORT, data={}, metrics={})
    assert list((tmp_path / "graphsage").iterdir()) == []
