"""Detectors by name, registered through the `opsgraph.detectors`, `opsgraph.batch_detectors`
and `opsgraph.graph_detectors` entry-point groups.

A plugin package adds a detector without editing opsgraph by declaring an entry point there.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from opsgraph.core.errors import ConfigError
from opsgraph.detect.base import StreamingDetector
from opsgraph.detect.gnn.contract import GraphDetector
from opsgraph.detect.multivariate import BatchDetector

GROUP = "opsgraph.detectors"
BATCH_GROUP = "opsgraph.batch_detectors"
GRAPH_GROUP = "opsgraph.graph_detectors"


def available() -> dict[str, EntryPoint]:
    """Every registered detector, by name."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def create_detector(
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    defaults: Mapping[str, Any] | None = None,
) -> StreamingDetector:
    """Build the named detector.

    `params` are the detector's own settings (one it does not take is an error); `defaults`
    are shared knobs such as `window`, applied only where the detector takes them. An unknown
    name or a refused setting raises ConfigError.
    """
    found = available()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise ConfigError(f"detect.detector: unknown detector {name!r} (registered: {known})")
    factory = found[name].load()
    accepted = set(inspect.signature(factory).parameters)
    kwargs = {k: v for k, v in (defaults or {}).items() if k in accepted}
    kwargs.update(params or {})
    try:
        detector = factory(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"detect: detector {name!r} refused its parameters: {exc}") from exc
    if not isinstance(detector, StreamingDetector):
        raise ConfigError(f"detect.detector: {name!r} does not implement StreamingDetector")
    return detector


def available_batch() -> dict[str, EntryPoint]:
    """Every registered batch (fit on history) detector, by name."""
    return {ep.name: ep for ep in entry_points(group=BATCH_GROUP)}


def create_batch_detector(name: str, params: Mapping[str, Any] | None = None) -> BatchDetector:
    found = available_batch()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise ConfigError(f"unknown batch detector {name!r} (registered: {known})")
    try:
        detector: BatchDetector = found[name].load()(**(params or {}))
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
        detector = found[name].load()(**(params or {}))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"graph detector {name!r} refused its parameters: {exc}") from exc
    if not isinstance(detector, GraphDetector):
        raise ConfigError(f"{name!r} does not implement GraphDetector")
    return detector
