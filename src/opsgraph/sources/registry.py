"""Which pull sources a process runs: built from the `sources` section of the configuration."""

from __future__ import annotations

from opsgraph.config import Settings
from opsgraph.sources.pull import PullSource


def build_pull_sources(settings: Settings) -> list[PullSource]:
    """The configured pollers, in a stable order (none by default)."""
    sources: list[PullSource] = []
    return sources
