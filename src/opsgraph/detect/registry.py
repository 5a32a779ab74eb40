"""Detectors by name, registered through the `opsgraph.detectors` entry-point group.

A plugin package adds a detector without editing opsgraph by declaring an entry point there.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

from opsgraph.core.errors import ConfigError
from opsgraph.detect.base import StreamingDetector

GROUP = "opsgraph.detectors"


def available() -> dict[str, EntryPoint]:
    """Every registered detector, by name."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def create_detector(name: str, **params: Any) -> StreamingDetector:
    """Build the named detector; an unknown name or bad parameters raise ConfigError."""
    found = available()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise ConfigError(f"detect.detector: unknown detector {name!r} (registered: {known})")
    factory = found[name].load()
    try:
        detector = factory(**params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"detect: detector {name!r} refused its parameters: {exc}") from exc
    if not isinstance(detector, StreamingDetector):
        raise ConfigError(f"detect.detector: {name!r} does not implement StreamingDetector")
    return detector
