"""Streaming detectors by name, registered through the `opsgraph.detectors` entry-point group
(the learned models' groups are in `models/plugins.py`).

A plugin package adds a detector without editing opsgraph by declaring an entry point there.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from opsgraph.core.errors import ConfigError
from opsgraph.detect.base import StreamingDetector

GROUP = "opsgraph.detectors"


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
