"""Training data for the multivariate resource model (the store's history or a CSV file) and the
model a running opsgraph serves: the newest registered version, bootstrapped from the store.

Bootstrap: with no registered version, the first request fits one on the store's recorded
history (seconds, under a lock) and registers it; with too little history it answers 409.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from opsgraph.core.errors import ConflictError, InvalidInputError
from opsgraph.core.metrics import SIGNALS
from opsgraph.detect.base import FloatArray
from opsgraph.models.registry import ModelInfo
from opsgraph.models.resource_model import (
    MIN_ROWS,
    ResourceModel,
    ResourceModelRegistry,
    fit_and_register,
)
from opsgraph.sources.files import read_table
from opsgraph.store import Store

log = logging.getLogger(__name__)

#: Largest number of resources read for training (evenly spread over the sorted ids).
MAX_RESOURCES = 500
#: After a bootstrap that found too little history, wait this long before reading it again.
RETRY_AFTER_S = 30.0
TRAIN_HINT = (
    "train one with `opsgraph train multivariate` (from the store's history) or "
    "`opsgraph train multivariate --data FILE.csv`"
)


def history_from_store(
    store: Store, *, features: Sequence[str] = SIGNALS, max_rows: int = 50_000
) -> tuple[FloatArray, dict[str, Any]]:
    """Complete rows of `features` per resource, in time order, resource after resource; rows
    inside a recorded anomaly episode of that resource are left out (not healthy history)."""
    ids = sorted(r.id for r in store.list_resources())
    if len(ids) > MAX_RESOURCES:
        ids = [ids[int(i)] for i in np.linspace(0, len(ids) - 1, MAX_RESOURCES)]
    per_resource = max(max_rows // max(len(ids), 1), 1)
    episodes: dict[str, list[tuple[float, float]]] = {}
    anomalies, _ = store.list_anomalies(limit=100_000)
    for a in anomalies:
        end = a.end_ts if a.end_ts is not None else a.last_ts
        episodes.setdefault(a.resource_id, []).append((a.start_ts, end))
    blocks: list[FloatArray] = []
    used = 0
    first, last = np.inf, -np.inf
    for rid in ids:
        series = store.read_samples(rid, metrics=list(features), limit=per_resource)
        if len(series) != len(features) or not all(series[m][0] for m in features):
            continue  # the resource does not report every feature
        stamps = np.unique(np.concatenate([series[m][0] for m in features]))
        rows = np.full((stamps.size, len(features)), np.nan)
        for j, m in enumerate(features):
            ts, vs = series[m]
            rows[np.searchsorted(stamps, ts), j] = vs
        keep = np.isfinite(rows).all(axis=1)
        for start, end in episodes.get(rid, []):
            keep &= (stamps < start) | (stamps > end)
        if keep.sum() < 2:
            continue
        blocks.append(rows[keep])
        used += 1
        first, last = min(first, float(stamps[keep][0])), max(last, float(stamps[keep][-1]))
    X = np.vstack(blocks) if blocks else np.zeros((0, len(features)))
    info = {
        "source": "store",
        "store": store.dialect,
        "resources": used,
        "rows": int(X.shape[0]),
        "start_ts": first if blocks else None,
        "end_ts": last if blocks else None,
    }
    return X, info


def history_from_csv(path: Path) -> tuple[FloatArray, list[str], dict[str, Any]]:
    """Rows of a CSV: wide (optional timestamp, then one column per feature; one resource) or
    long (resource_id, metric, timestamp, value; each resource's rows become a block). Rows
    with a gap are left out."""
    table = read_table(path)
    long = all("/" in c for c in table.columns)
    if not long:
        features = list(table.columns)
        rows = table.values[np.isfinite(table.values).all(axis=1)]
        blocks = [rows]
    else:
        owners: dict[str, dict[str, int]] = {}
        for j, column in enumerate(table.columns):
            owner, _, metric = column.rpartition("/")
            owners.setdefault(owner, {})[metric] = j
        names = {m for cols in owners.values() for m in cols}
        features = [s for s in SIGNALS if s in names] + sorted(names - set(SIGNALS))
        blocks = []
        for cols in owners.values():
            if set(cols) != set(features):
                continue
            block = table.values[:, [cols[f] for f in features]]
            blocks.append(block[np.isfinite(block).all(axis=1)])
    X = np.vstack(blocks) if blocks else np.zeros((0, len(features)))
    info = {
        "source": str(path),
        "layout": "long" if long else "wide",
        "resources": sum(1 for b in blocks if len(b)),
        "rows": int(X.shape[0]),
        "ignored_columns": table.ignored,
    }
    return X, features, info


class ResourceModels:
    """The served resource model: the newest registered version, loaded once and replaced when
    `opsgraph train multivariate` registers a newer one."""

    def __init__(
        self,
        root: Path,
        store: Store,
        *,
        detector: str = "ensemble",
        bootstrap: bool = True,
        max_rows: int = 50_000,
    ) -> None:
        self.registry = ResourceModelRegistry(root)
        self.store = store
        self.detector = detector
        self.bootstrap = bootstrap
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._loaded: tuple[ResourceModel, ModelInfo] | None = None
        self._refused: tuple[float, str] | None = None

    def get(self) -> tuple[ResourceModel, ModelInfo]:
        """(model, info) of the newest version, bootstrapping the first one when allowed."""
        latest = self.registry.latest()
        loaded = self._loaded
        if latest is not None and loaded is not None and loaded[1].version == latest:
            return loaded
        with self._lock:  # one bootstrap or load at a time; the others wait for its result
            latest = self.registry.latest()
            if latest is None:
                self._bootstrap()
                latest = self.registry.latest()
            if self._loaded is None or self._loaded[1].version != latest:
                self._loaded = self.registry.load(latest)
            return self._loaded

    def _bootstrap(self) -> None:
        where = self.registry.root
        if not self.bootstrap:
            raise ConflictError(f"no trained multivariate model in {where}; {TRAIN_HINT}")
        refused = self._refused
        if refused is not None and time.monotonic() < refused[0]:
            raise ConflictError(refused[1])
        X, info = history_from_store(self.store, max_rows=self.max_rows)
        if X.shape[0] < MIN_ROWS:
            message = (
                f"no trained multivariate model in {where}, and the store holds {X.shape[0]} "
                f"complete healthy rows of {', '.join(SIGNALS)} (bootstrap needs {MIN_ROWS}); "
                f"let opsgraph record more history, or {TRAIN_HINT}"
            )
            self._refused = (time.monotonic() + RETRY_AFTER_S, message)
            raise ConflictError(message)
        try:
            saved = fit_and_register(
                self.registry, X, SIGNALS, data=info | {"bootstrap": True}, detector=self.detector
            )
        except InvalidInputError as exc:
            raise ConflictError(f"bootstrap of the multivariate model failed: {exc}") from exc
        self._refused = None
        log.info("bootstrapped multivariate model v%d on %d rows", saved.version, X.shape[0])

    def status(self) -> dict[str, Any]:
        """What is served (without loading or training anything)."""
        latest = self.registry.latest()
        info = None if latest is None else self.registry.info(ResourceModelRegistry.NAME, latest)
        return {
            "name": ResourceModelRegistry.NAME,
            "version": latest,
            "detector": None if info is None else info.detector,
            "threshold": None if info is None else info.threshold,
            "required_features": None if info is None else info.data.get("features"),
            "bootstrap": self.bootstrap,
            "bootstrap_detector": self.detector,
        }

    def info(self) -> list[dict[str, Any]]:
        """Every registered version's metadata, oldest first."""
        return [m.model_dump() for m in self.registry.list()]
