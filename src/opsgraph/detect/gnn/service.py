"""The graph model a running opsgraph serves: the newest registered version, loaded once.

With an empty registry and bootstrap on, a small model is trained on the simulator in a
background thread at start, so a fresh install answers graph predictions within a minute;
until then requests get "not ready" (503) rather than waiting.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from opsgraph.core.errors import ConflictError, UnavailableError

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
        self._training: threading.Thread | None = None
        self._error: str | None = None

    def registry(self) -> Any:
        from opsgraph.detect.gnn.registry import ModelRegistry

        return ModelRegistry(self.root)

    def start(self) -> None:
        """Begin bootstrap training when no model of our name is registered."""
        if not self.bootstrap or self.registry().list(self.name):
            return
        with self._lock:
            if self._training is None:
                self._training = threading.Thread(
                    target=self._train, name="gnn-bootstrap", daemon=True
                )
                self._training.start()

    def _train(self) -> None:
        from opsgraph.detect.gnn.training import Plan, evaluate, held_out_set, training_set
        from opsgraph.detect.registry import create_graph_detector

        incidents, epochs = self._plan
        try:
            plan = Plan(incidents=incidents, held_out_topologies=((70, 11),))
            train = training_set(plan)
            if self.name == "graph_deviation":
                train = train.only([""])
            detector = create_graph_detector(self.name, {"epochs": epochs})
            report = detector.fit(train.windows, train.labels)
            scores = evaluate(detector, held_out_set(plan), plan.unseen_kinds)
            data = plan.describe() | {"windows": len(train), "bootstrap": True}
            info = self.registry().save(detector, report, data=data, metrics=scores)
            with self._lock:
                self._loaded = (detector, info)
            log.info("bootstrap %s model registered at %s", self.name, info.path)
        except Exception as exc:  # a failed bootstrap must not take the service down
            log.exception("bootstrap training of %s failed", self.name)
            self._error = f"{type(exc).__name__}: {exc}"

    def status(self) -> dict[str, Any]:
        training = self._training is not None and self._training.is_alive()
        return {"name": self.name, "training": training, "error": self._error}

    def get(self) -> tuple[Any, Any]:
        """(detector, ModelInfo) of the newest version; a version registered while serving
        (by `opsgraph train gnn`) replaces the loaded one at the next request."""
        versions = self.registry().list(self.name)
        with self._lock:
            loaded = self._loaded
        if versions and loaded is not None and loaded[1].version == versions[-1].version:
            return loaded
        if not versions:
            if self._training is not None and self._training.is_alive():
                raise UnavailableError(
                    f"the {self.name} model is still training (first start); retry in a minute"
                )
            failed = f" (bootstrap failed: {self._error})" if self._error else ""
            raise ConflictError(
                f"no trained {self.name} model in {self.root}; train one with "
                f"`opsgraph train gnn`{failed}"
            )
        fresh: tuple[Any, Any] = self.registry().load(self.name, versions[-1].version)
        with self._lock:
            self._loaded = fresh
        return fresh

    def info(self) -> list[dict[str, Any]]:
        """Every registered model's metadata, newest version of each name last."""
        return [m.model_dump() for m in self.registry().list()]
