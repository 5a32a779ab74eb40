"""Learned models by name, registered through the `opsgraph.batch_detectors` (fitted on a
table of history) and `opsgraph.graph_detectors` (all nodes of a graph at once) entry-point
groups. A plugin package adds one by declaring an entry point there.

A model whose optional dependencies are missing (the `gnn` extra: PyTorch) is refused with
the extra to install, not an ImportError.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from opsgraph.core.errors import ConfigError
from opsgraph.core.extras import load_entry_point
from opsgraph.models.gnn.contract import GraphDetector
from opsgraph.models.multivariate import BatchDetector

BATCH_GROUP = "opsgraph.batch_detectors"


GRAPH_GROUP = "opsgraph.graph_detectors"


def available_batch() -> dict[str, EntryPoint]:
    """Every registered batch (fit on history) detector, by name."""
    return {ep.name: ep for ep in entry_points(group=BATCH_GROUP)}


def create_batch_detector(name: str, params: Mapping[str, Any] | None = None) -> BatchDetector:
    found = available_batch()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise ConfigError(f"unknown batch detector {name!r} (registered: {known})")
    try:
        detector: BatchDetector = load_entry_point(found[name])(**(params or {}))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"batch detector {name!r} refused its parameters: {exc}") from exc
    return detector


def available_graph() -> dict[str, EntryPoint]:
    """Every registered graph detector (scores all nodes of a graph at once), by name."""
    return {ep.name: ep for ep in entry_points(group=GRAPH_GROUP)}


def create_graph_detector(name: str, params: Mapping[str, Any] | None = None) -> GraphDetector:
    found = available_graph()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise ConfigError(f"unknown graph detector {name!r} (registered: {known})")
    try:
        detector = load_entry_point(found[name])(**(params or {}))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"graph detector {name!r} refused its parameters: {exc}") from exc
    if not isinstance(detector, GraphDetector):
        raise ConfigError(f"{name!r} does not implement GraphDetector")
    return detector
