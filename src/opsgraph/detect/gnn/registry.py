"""A versioned registry of trained graph models: one folder per version, holding the weights,
the metadata (data, config, metrics, date) and the loss curve.

Layout: <root>/<detector>/v0001/{model.pt, meta.json, loss.png}. Versions only grow; a version
is written to a temporary folder and renamed, so a crash never leaves half a model behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field

from opsgraph.core.errors import InvalidInputError, NotFoundError
from opsgraph.detect.gnn.contract import FitReport
from opsgraph.detect.registry import create_graph_detector

_VERSION = re.compile(r"^v(\d{4,})$")


class ModelInfo(BaseModel):
    """What a registered model is, what it learned from and how well it did."""

    model_config = ConfigDict(extra="forbid")

    name: str
    version: int
    detector: str
    created: str
    threshold: float
    path: str
    data: dict[str, Any] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    training: dict[str, Any] = Field(default_factory=dict)


def _versions(folder: Path) -> list[int]:
    if not folder.is_dir():
        return []
    found = (_VERSION.match(p.name) for p in folder.iterdir() if p.is_dir())
    return sorted(int(m.group(1)) for m in found if m)


def plot_loss(report: FitReport, path: Path, title: str) -> None:
    """The training and validation loss per epoch, with the kept epoch marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    ax.plot(report.train_loss, label="training loss")
    if report.val_loss != report.train_loss:
        ax.plot(report.val_loss, label="validation loss")
    ax.axvline(report.best_epoch, color="grey", linestyle=":", label="kept epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


class ModelRegistry:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser()

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
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        version = (_versions(folder) or [0])[-1] + 1
        final = folder / f"v{version:04d}"
        info = ModelInfo(
            name=name,
            version=version,
            detector=name,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            threshold=float(detector.threshold),
            path=str(final),
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
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
        try:
            torch.save(detector.state(), tmp / "model.pt")
            (tmp / "meta.json").write_text(json.dumps(info.model_dump(), indent=2) + "\n")
            plot_loss(report, tmp / "loss.png", f"{name} v{version}")
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return info

    def list(self, name: str | None = None) -> list[ModelInfo]:
        """Every registered version, oldest first (of one name, or of all)."""
        if not self.root.is_dir():
            return []
        names = [name] if name else sorted(p.name for p in self.root.iterdir() if p.is_dir())
        out = []
        for n in names:
            for v in _versions(self.root / n):
                meta = self.root / n / f"v{v:04d}" / "meta.json"
                if meta.is_file():
                    out.append(ModelInfo.model_validate_json(meta.read_text()))
        return out

    def latest_version(self, name: str) -> int | None:
        """The newest complete version of `name` from the folder names alone (no metadata
        read), for checks on every request."""
        done = [
            v
            for v in _versions(self.root / name)
            if (self.root / name / f"v{v:04d}" / "meta.json").is_file()
        ]
        return done[-1] if done else None

    def info(self, name: str, version: int | None = None) -> ModelInfo:
        versions = [m for m in self.list(name) if version is None or m.version == version]
        if not versions:
            raise NotFoundError("model", f"{name} v{version}" if version else name)
        return versions[-1]

    def load(self, name: str, version: int | None = None) -> tuple[Any, ModelInfo]:
        """The fitted detector of a version (the newest when none is given) and its info."""
        info = self.info(name, version)
        state = torch.load(Path(info.path) / "model.pt", weights_only=True)
        if state.get("detector") != info.detector:
            raise InvalidInputError("model", f"{info.path} holds {state.get('detector')!r}")
        detector = create_graph_detector(info.detector, state.get("params"))
        detector.load_state(state)
        return detector, info
