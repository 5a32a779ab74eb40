"""The graph model a running opsgraph serves: the newest registered version, loaded once.

With an empty registry and bootstrap on, a model is trained by `opsgraph train gnn` in a
child process (its own CPU time, stopped cleanly with the service); until then requests get
"not ready" (503) rather than waiting.
- When the simulator is the source, a small supervised model is trained on simulated
  incidents at start, so a fresh demo answers graph predictions within a minute or two.
- On a real estate nothing simulated is ever served: once the store holds
  `min_history_s` of the estate's own samples, the self-supervised model is trained on them
  (`opsgraph train gnn --mode self-supervised --from-store`); until then `status()` says how
  much history there is and how much it waits for.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
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
        estate_history: Callable[[], float] | None = None,
        min_history_s: float = 6 * 3600.0,
        store_url: str | None = None,
    ) -> None:
        """`estate_history` (seconds of samples the store holds) turns on the real-estate mode:
        the bootstrap waits for `min_history_s` of them and trains on them from `store_url`."""
        self.root = root
        self.name = name
        self.bootstrap = bootstrap
        self._plan = (bootstrap_incidents, bootstrap_epochs)
        self._estate = estate_history
        self.min_history_s = min_history_s
        self._store_url = store_url
        self._history_s: float | None = None
        self._checked = 0.0
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
        """Begin bootstrap training when no model of our name is registered (on a real estate:
        once enough history is recorded; `poll` checks again later)."""
        if not self.bootstrap or self._child is not None:
            return
        if not self.installed():
            log.info("graph models need the 'gnn' extra (PyTorch): no bootstrap model")
            return
        if self.registry().latest_version(self.name) is not None:
            return
        incidents, epochs = self._plan
        mode = "self-supervised" if self.name == "graph_deviation" else "supervised"
        command = [
            sys.executable, "-m", "opsgraph", "train", "gnn", "--mode", mode,
            "--epochs", str(epochs), "--models", str(self.root),
        ]  # fmt: skip
        if self._estate is not None:
            self._history_s = self._estate()
            self._checked = time.monotonic()
            if self._history_s < self.min_history_s:
                return
            command += ["--from-store"] + (["--store", self._store_url] if self._store_url else [])
        else:
            command += ["--incidents", str(incidents)]
        self.root.mkdir(parents=True, exist_ok=True)
        log_path = self.root / f"bootstrap-{self.name}.log"
        with log_path.open("wb") as out:
            self._child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        log.info("training a bootstrap %s model (log: %s)", self.name, log_path)

    def poll(self, every_s: float = 60.0) -> None:
        """On a real estate, check the recorded history again (at most every `every_s`) and
        start training once there is enough."""
        if self._estate is None or self._child is not None:
            return
        if time.monotonic() - self._checked < every_s:
            return
        self.start()

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
        """What is served or why nothing is: training, waiting for history, an error; and
        what the served model learned from (`trained_on`)."""
        self.poll()
        error = self._failure()
        if error is None and not self.installed():
            error = str(MissingExtraError("graph models", "gnn", "torch"))
        out: dict[str, Any] = {"name": self.name, "training": self._training(), "error": error}
        served = self._served_info()
        out["trained_on"] = _trained_on(served.data) if served is not None else None
        if served is None and self._estate is not None and not self._training():
            have = self._history_s or 0.0
            out["waiting"] = (
                f"this estate's model trains on its own recorded metrics once the store holds "
                f"{self.min_history_s / 3600:g} h of them; it holds {have / 3600:.1f} h"
            )
        return out

    def _served_info(self) -> Any:
        if not self.installed():
            return None
        latest = self.registry().latest_version(self.name)
        return None if latest is None else self.registry().info(self.name, latest)

    def get(self) -> tuple[Any, Any]:
        """(detector, ModelInfo) of the newest version; a version registered while serving
        (by `opsgraph train gnn`) replaces the loaded one at the next request."""
        latest = self.registry().latest_version(self.name)
        with self._lock:
            loaded = self._loaded
        if latest is not None and loaded is not None and loaded[1].version == latest:
            return loaded
        if latest is None:
            self.poll()
            if self._training():
                raise UnavailableError(
                    f"the {self.name} model is still training (first start); retry in a minute"
                )
            error = self._failure()
            failed = f" (bootstrap failed: {error})" if error else ""
            waiting = self.status().get("waiting")
            if waiting:
                raise UnavailableError(f"no {self.name} model yet: {waiting}")
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


def _trained_on(data: dict[str, Any]) -> str:
    """What a registered model learned from, in words."""
    source = data.get("source")
    if source == "simulated cloud":
        tops = ", ".join(f"{n} nodes" for n, _ in data.get("train_topologies", []))
        return f"simulated incidents ({tops}; not this estate)"
    if source == "store":
        return (
            f"this estate's recorded metrics: {data.get('nodes')} resources, "
            f"{data.get('rows')} steps of {data.get('step_s', 0):g} s"
        )
    if source:
        return f"recorded metrics from {source}"
    return "unknown"
