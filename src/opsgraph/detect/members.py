"""Ensemble member specifications: `robust_z@120,cusum@120:k=1.0,seasonal:period=week`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsgraph.core.errors import InvalidInputError

if TYPE_CHECKING:
    from opsgraph.detect.base import StreamingDetector

#: The best NAB configuration so far (docs/benchmarks.md).
DEFAULT_MEMBERS = "robust_z@120,cusum@120:k=1.0,seasonal:period=week,new_level@600:bins=16"
#: Tail quantile above which each member's calibrator models exceedances.
TAIL_LEVEL = 0.99

Member = tuple[str, int | None, dict[str, Any]]


def _param(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def parse_members(spec: str) -> list[Member]:
    """`robust_z@120,cusum@120,seasonal:period=week` -> [(name, window, params), ...]."""
    members: list[Member] = []
    for part in spec.split(","):
        head, *settings = part.strip().split(":")
        name, _, window = head.partition("@")
        if not name:
            raise InvalidInputError("members", f"empty member in {spec!r}")
        params: dict[str, Any] = {}
        for setting in settings:
            key, sep, value = setting.partition("=")
            if not sep or not key:
                raise InvalidInputError("members", f"{part!r}: settings are key=value")
            params[key] = _param(value)
        try:
            members.append((name, int(window) if window else None, params))
        except ValueError:
            raise InvalidInputError("members", f"{part!r}: the window must be an integer") from None
    return members


def create_members(members: list[Member], min_points: int | None = None) -> list[StreamingDetector]:
    """The registered detectors of a spec. A member with a window warms up on
    min(min_points or 20, window) points; one without keeps its own warm-up unless
    `min_points` is given."""
    from opsgraph.detect.registry import create_detector

    out = []
    for name, window, params in members:
        defaults: dict[str, int] | None = None if min_points is None else {"min_points": min_points}
        if window is not None:
            defaults = {"window": window, "min_points": min(min_points or 20, window)}
        out.append(create_detector(name, params, defaults=defaults))
    return out


def format_members(members: list[Member]) -> str:
    """The spec of parsed members: the inverse of `parse_members`."""
    parts = []
    for name, window, params in members:
        head = name if window is None else f"{name}@{window}"
        parts.append(":".join([head, *(f"{k}={v}" for k, v in params.items())]))
    return ",".join(parts)
