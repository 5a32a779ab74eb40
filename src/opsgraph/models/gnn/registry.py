"""The graph-model family of the versioned model registry: weights, metadata (data, config,
metrics, date) and the loss curve of each trained graph detector.

Layout: <root>/<detector>/v0001/{model.pt, meta.json, loss.svg} (see models/registry.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from opsgraph.core.errors import InvalidInputError
from opsgraph.models.gnn.contract import FitReport
from opsgraph.models.gnn.plot import write_loss_svg
from opsgraph.models.plugins import create_graph_detector
from opsgraph.models.registry import ModelInfo
from opsgraph.models.registry import ModelRegistry as VersionedRegistry

__all__ = ["ModelInfo", "ModelRegistry", "plot_loss"]


def plot_loss(report: FitReport, path: Path, title: str) -> None:
    """The training and validation loss per epoch, with the kept epoch marked (SVG)."""
    write_loss_svg(path, report.train_loss, report.val_loss, report.best_epoch, title)


class ModelRegistry(VersionedRegistry):
    """Graph detectors, one name per detector."""

    family = "graph"

    def save(
        self,
        detector: Any,
        report: FitReport,
        *,
        data: dict[str, Any],
        metrics: dict[str, Any],
    ) -> ModelInfo:
        """Register a fitted detector as the next version of its name."""
        name = str(detector.name)

        def write(folder: Path, version: int) -> None:
            torch.save(detector.state(), folder / "model.pt")
            plot_loss(report, folder / "loss.svg", f"{name} v{version}")

        return self.register(
            name,
            write,
            detector=name,
            threshold=float(detector.threshold),
            data=data,
            config=dict(detector.params),
            metrics=metrics,
            training={
                "epochs": report.epochs,
                "best_epoch": report.best_epoch,
                "best_val_loss": round(report.best_val_loss, 6),
                "train_nodes": report.train_nodes,
                "positives": report.positives,
            },
        )

    def load(self, name: str, version: int | None = None) -> tuple[Any, ModelInfo]:
        """The fitted detector of a version (the newest when none is given) and its info."""
        info = self.info(name, version)
        state = torch.load(Path(info.path) / "model.pt", weights_only=True)
        if state.get("detector") != info.detector:
            raise InvalidInputError("model", f"{info.path} holds {state.get('detector')!r}")
        detector = create_graph_detector(info.detector, state.get("params"))
        detector.load_state(state)
        return detector, info
