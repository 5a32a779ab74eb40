"""The `sim` section of the configuration: the simulated estate."""

from __future__ import annotations

from pydantic import Field

from opsgraph.core.settings import Section


class SimSettings(Section):
    enabled: bool = Field(default=True, description="Run the simulated cloud as a source.")
    resources: int = Field(default=50, ge=10, le=10_000, description="Size of the estate.")
    seed: int = Field(default=7, description="Same seed, same estate and same metrics.")
    step_s: float = Field(
        default=15.0, gt=0, description="Simulated seconds between samples (a scrape interval)."
    )
    speed: float = Field(
        default=1.0,
        gt=0,
        description="Simulated seconds per real second: 1 = real time, so the simulated clock "
        "is the wall clock; more runs faster than the wall clock (60 = a minute a second).",
    )
    preroll_steps: int = Field(
        default=240,
        ge=0,
        le=10_000,
        description="Steps of history simulated at start (warm detectors; an hour at 15 s).",
    )
    action_delay_s: float = Field(
        default=120.0,
        ge=0,
        le=86_400,
        description="Simulated seconds an accepted action (restart, failover, rollback, "
        "scaling) takes before it acts, as a real one does.",
    )
    action_failure_rate: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Probability that an action fails with a provider error (the executor "
        "sees the failure; remediation retries, then escalates).",
    )
