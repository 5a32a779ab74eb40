"""The versioned registry of trained models that every model family shares (graph models, the
multivariate resource model): one folder per version, holding the artefact and its metadata.

Layout: <root>/<name>/v0001/{meta.json, artefact files}. Versions only grow; a version is written
to a temporary folder and renamed, so a crash never leaves half a model behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from opsgraph.core.errors import NotFoundError

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
    #: Which kind of model: "graph" (files written before families existed are graph models).
    family: str = "graph"
    data: dict[str, Any] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    training: dict[str, Any] = Field(default_factory=dict)


def _versions(folder: Path) -> list[int]:
    if not folder.is_dir():
        return []
    found = (_VERSION.match(p.name) for p in folder.iterdir() if p.is_dir())
    return sorted(int(m.group(1)) for m in found if m)


class ModelRegistry:
    """Versions of models under one root; a family's subclass adds how to save and load its
    artefacts and sees only its own family's versions (`family = None` sees every family)."""

    family: ClassVar[str | None] = None

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser()

    def register(
        self,
        name: str,
        write: Callable[[Path, int], None],
        *,
        detector: str,
        threshold: float,
        data: dict[str, Any],
        config: dict[str, Any],
        metrics: dict[str, Any],
        training: dict[str, Any],
    ) -> ModelInfo:
        """Register the next version of `name`: `write(folder, version)` puts the artefacts in
        a temporary folder, which becomes the version only once meta.json is written too."""
        if self.family is None:
            raise TypeError("register models through their family's registry")
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        version = (_versions(folder) or [0])[-1] + 1
        final = folder / f"v{version:04d}"
        info = ModelInfo(
            name=name,
            version=version,
            detector=detector,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            threshold=float(threshold),
            path=str(final),
            family=self.family,
            data=data,
            config=config,
            metrics=metrics,
            training=training,
        )
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
        try:
            write(tmp, version)
            (tmp / "meta.json").write_text(json.dumps(info.model_dump(), indent=2) + "\n")
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return info

    def list(self, name: str | None = None) -> list[ModelInfo]:
        """Every registered version of this family, oldest first (of one name, or of all)."""
        if not self.root.is_dir():
            return []
        names = [name] if name else sorted(p.name for p in self.root.iterdir() if p.is_dir())
        out = []
        for n in names:
            for v in _versions(self.root / n):
                meta = self.root / n / f"v{v:04d}" / "meta.json"
                if not meta.is_file():
                    continue
                info = ModelInfo.model_validate_json(meta.read_text())
                if self.family is None or info.family == self.family:
                    out.append(info)
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
