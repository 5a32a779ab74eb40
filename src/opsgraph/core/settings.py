"""The base of every configuration section: each package keeps its own section beside it
(`<package>/settings.py`), and `runtime/settings.py` assembles them into one Settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A section of the configuration: unknown keys are refused, naming the key."""

    model_config = ConfigDict(extra="forbid")
