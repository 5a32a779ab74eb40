"""Forecasters by name, registered through the `opsgraph.forecasters` entry-point group.

A plugin package adds a forecaster without editing opsgraph by declaring an entry point there
whose target builds a `Forecaster` from keyword parameters.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

from opsgraph.core.errors import InvalidInputError
from opsgraph.forecast.base import Forecaster

GROUP = "opsgraph.forecasters"


def available() -> dict[str, EntryPoint]:
    """Every registered forecaster, by name."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def create(name: str, **params: Any) -> Forecaster:
    """Build the named forecaster with `params`.

    An unknown name, a parameter the forecaster does not take or a value it refuses raises
    InvalidInputError naming the field.
    """
    found = available()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise InvalidInputError("forecaster", f"unknown forecaster {name!r} (registered: {known})")
    factory = found[name].load()
    try:
        forecaster = factory(**params)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"forecaster.{name}", f"refused its parameters {sorted(params)}: {exc}"
        ) from exc
    if not isinstance(forecaster, Forecaster):
        raise InvalidInputError("forecaster", f"{name!r} does not build a Forecaster")
    return forecaster
