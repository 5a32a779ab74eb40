"""The graph model a running opsgraph serves: the newest registered version, loaded once.

With an empty registry and bootstrap on, a small model is trained on the simulator at start
by `opsgraph train gnn` in a child process (its own CPU time, stopped cleanly with the
service), so a fresh install answers graph predictions within a minute or two; until then
requests get "not ready" (503) rather than waiting.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from opsgraph.core.errors import ConflictError, MissingExtraError, UnavailableError
from opsgraph.core.extras import available, require

log = logging.getLogger(__name__)


class GraphModels:
    def __init__(
        self,
        root: Path,
        *,
        name: str = "graphsage",
        bootstrap: bool = True,
        bootstrap_incidents: int = 12,
        bootstrap_epochs: int = 100,
    ) -> None:
        self.root = root
        self.name = name
        self.bootstrap = bootstrap
        self._plan = (bootstrap_incidents, bootstrap_epochs)
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any] | None = None
        self._child: subprocess.Popen[bytes] | None = None

    def registry(self) -> Any:
        """The registry of graph models; without PyTorch (the `gnn` extra) MissingExtraError."""
        require("torch", "graph models")
        require("torch_geometric", "graph models")
        from opsgraph.models.gnn.registry import ModelRegistry

        return ModelRegistry(self.root)

    @staticmethod
    def installed() -> bool:
        """Whether the graph models can run here (PyTorch and PyG, the `gnn` extra)."""
        return available("torch") and available("torch_geometric")

    def start(self) -> None:
        """Begin bootstrap training when no model of our name is registered."""
        if not self.bootstrap or self._child is not None:
            return
        if not self.installed():
            log.info("graph models need the 'gnn' extra (PyTorch): no bootstrap model")
            return
        if self.registry().latest_version(self.name) is not None:
            return
        incidents, epochs = self._plan
        mode = "self-supervised" if self.name == "graph_deviation" else "supervised"
        self.root.mkdir(parents=True, exist_ok=True)
        log_path = self.root / f"bootstrap-{self.name}.log"
        command = [
            sys.executable, "-m", "opsgraph", "train", "gnn", "--mode", mode,
            "--incidents", str(incidents), "--epochs", str(epochs), "--models", str(self.root),
        ]  # fmt: skip
        with log_path.open("wb") as out:
            self._child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        log.info("training a bootstrap %s model (log: %s)", self.name, log_path)

    def stop(self) -> None:
        """Stop a bootstrap still running (the registry never holds half a model)."""
        child, self._child = self._child, None
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=10)

    def _training(self) -> bool:
        return self._child is not None and self._child.poll() is None

    def _failure(self) -> str | None:
        code = None if self._child is None else self._child.poll()
        if code:
            return f"`opsgraph train gnn` exited with {code}; see {self.root}/bootstrap-*.log"
        return None

    def status(self) -> dict[str, Any]:
        error = self._failure()
        if error is None and not self.installed():
            error = str(MissingExtraError("graph models", "gnn", "torch"))
        return {"name": self.name, "training": self._training(), "error": error}

    def get(self) -> tuple[Any, Any]:
        """(detector, ModelInfo) of the newest version; a version registered while serving
        (by `opsgraph train gnn`) replaces the loaded one at the next request."""
        latest = self.registry().latest_version(self.name)
        with self._lock:
            loaded = self._loaded
        if latest is not None and loaded is not None and loaded[1].version == latest:
            return loaded
        if latest is None:
            if self._training():
                raise UnavailableError(
                    f"the {self.name} model is still training (first start); retry in a minute"
                )
            error = self._failure()
            failed = f" (bootstrap failed: {error})" if error else ""
            raise ConflictError(
                f"no trained {self.name} model in {self.root}; train one with "
                f"`opsgraph train gnn` (on a real estate: `opsgraph train gnn --mode "
                f"self-supervised --metrics FILE.csv`, from its own recorded metrics){failed}"
            )
        fresh: tuple[Any, Any] = self.registry().load(self.name, latest)
        with self._lock:
            self._loaded = fresh
        return fresh

    def info(self) -> list[dict[str, Any]]:
        """Every registered model's metadata, newest version of each name last (none where
        the graph models cannot run)."""
        if not self.installed():
            return []
        return [m.model_dump() for m in self.registry().list()]
