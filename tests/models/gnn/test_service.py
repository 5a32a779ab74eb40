"""The served graph model: newest version, clear errors without one, bootstrap training."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from opsgraph.core.errors import ConflictError, UnavailableError
from opsgraph.models.gnn.contract import FitReport
from opsgraph.models.gnn.detector import GraphSageDetector
from opsgraph.models.gnn.registry import ModelRegistry
from opsgraph.models.gnn.service import GraphModels

REPORT = FitReport(epochs=1, best_epoch=0, best_val_loss=0.1, train_loss=[0.1], val_loss=[0.1])


def test_without_a_model_the_error_says_how_to_get_one(tmp_path: Path) -> None:
    models = GraphModels(tmp_path, bootstrap=False)
    models.start()  # bootstrap off: nothing starts
    assert models.status() == {
        "name": "graphsage",
        "training": False,
        "error": None,
        "trained_on": None,
    }
    with pytest.raises(ConflictError, match="opsgraph train gnn"):
        models.get()


def test_the_newest_version_is_served(tmp_path: Path, graphsage: GraphSageDetector) -> None:
    registry = ModelRegistry(tmp_path)
    registry.save(graphsage, REPORT, data={}, metrics={})
    models = GraphModels(tmp_path)
    models.start()  # a model exists: no bootstrap
    assert models.status()["training"] is False
    assert models.get()[1].version == 1
    registry.save(graphsage, REPORT, data={}, metrics={})
    assert models.get()[1].version == 2
    assert [m["version"] for m in models.info()] == [1, 2]


def test_bootstrap_trains_and_registers_a_model(tmp_path: Path) -> None:
    models = GraphModels(tmp_path, bootstrap_incidents=4, bootstrap_epochs=3)
    models.start()
    with pytest.raises(UnavailableError, match="still training"):
        models.get()
    deadline = time.monotonic() + 240
    while models.status()["training"] and time.monotonic() < deadline:
        time.sleep(0.5)
    status = models.status()
    assert status["error"] is None, (tmp_path / "bootstrap-graphsage.log").read_text()
    _, info = models.get()
    assert info.version == 1 and info.config["epochs"] == 3
    assert info.metrics["held_out"]["nodes"] > 0
    assert (
        status["trained_on"].startswith("simulated incidents (")
        and "not this estate" in (status["trained_on"])
    )


def test_a_real_estate_waits_for_its_own_history_then_trains_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[str]] = []

    class Child:
        def __init__(self, command: list[str], **_: object) -> None:
            started.append(command)

        def poll(self) -> int | None:
            return None

    monkeypatch.setattr("opsgraph.models.gnn.service.subprocess.Popen", Child)
    recorded = [1800.0]
    models = GraphModels(
        tmp_path,
        name="graph_deviation",
        estate_history=lambda: recorded[0],
        min_history_s=3600.0,
        store_url="sqlite:///estate.db",
    )
    models.start()
    assert started == []  # half an hour of the estate's samples: not enough
    status = models.status()
    assert status["training"] is False and "holds 0.5 h" in status["waiting"]
    with pytest.raises(UnavailableError, match="once the store holds 1 h"):
        models.get()
    recorded[0] = 7200.0
    models.poll(every_s=0)
    (command,) = started
    assert command[-5:] == ["--models", str(tmp_path), "--from-store", "--store",
                            "sqlite:///estate.db"]  # fmt: skip
    assert "self-supervised" in command and "--incidents" not in command
    assert models.status()["training"] is True


def test_stop_ends_a_running_bootstrap(tmp_path: Path) -> None:
    models = GraphModels(tmp_path, bootstrap_incidents=200, bootstrap_epochs=5000)
    models.start()
    assert models.status()["training"] is True
    models.stop()
    assert models.status()["training"] is False
    assert ModelRegistry(tmp_path).list() == []
