"""The `detect` section of the configuration: the streaming detector, its calibration,
the decision step and the false-positive knobs per metric."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from opsgraph.core.models import CalendarEvent
from opsgraph.core.settings import Section


class KnobSettings(Section):
    """What counts as anomalous for a metric (see docs: false-positive knobs)."""

    direction: Literal["up", "down", "both"] = Field(
        default="both", description="Only rises (up), only falls (down) or both are anomalous."
    )
    min_deviation: float = Field(
        default=0.0, ge=0, description="Smaller |value - expected| is normal."
    )
    min_rel_deviation: float = Field(
        default=0.0, ge=0, description="Smaller deviation, as a fraction of expected, is normal."
    )
    valid_min: float | None = Field(default=None, description="Values below are always anomalous.")
    valid_max: float | None = Field(default=None, description="Values above are always anomalous.")
    warmup_points: int = Field(default=0, ge=0, description="First points of a series never alert.")

    @model_validator(mode="after")
    def _range(self) -> KnobSettings:
        low, high = self.valid_min, self.valid_max
        if low is not None and high is not None and low > high:
            raise ValueError("valid_min must not be above valid_max")
        return self


def _default_per_metric() -> dict[str, KnobSettings]:
    # Percentages cannot leave [0, 100]; an error rate that falls is good news.
    return {
        "cpu": KnobSettings(valid_min=0.0, valid_max=100.0),
        "memory": KnobSettings(valid_min=0.0, valid_max=100.0),
        "disk": KnobSettings(valid_min=0.0, valid_max=100.0),
        "error_rate": KnobSettings(direction="up", valid_min=0.0, valid_max=1.0),
        "latency_ms": KnobSettings(direction="up", valid_min=0.0),
        # Log metrics (docs/logs.md): fewer errors or new templates than usual is good news.
        "log_errors": KnobSettings(direction="up", valid_min=0.0),
        "log_new_templates": KnobSettings(direction="up", valid_min=0.0),
        "log_lines": KnobSettings(valid_min=0.0),
    }


class DetectSettings(Section):
    detector: str = Field(
        default="ensemble",
        description="Streaming detector, by entry-point name (the default, ensemble: the "
        "calibrated ensemble of detect/members.py's members; robust_z: the rolling robust z "
        "alone, of deploy/config/robust-z.yaml; docs/benchmarks.md compares them).",
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="The detector's own settings (e.g. period: week)."
    )
    window: int = Field(default=60, ge=5, le=10_000, description="Points per rolling window.")
    min_points: int = Field(default=20, ge=3, description="Warm-up: points before scoring.")
    calibration: Literal["tail", "exponential"] = Field(
        default="exponential",
        description="How raw scores become scores in [0, 1]: each series' own tail "
        "(score = surprise / 10, 0.4 = one point in 10^4 for that series), or the fixed "
        "exponential map of z_onset and z_scale. A detector that calibrates itself (ensemble) "
        "keeps its own surprise either way.",
    )
    alert_threshold: float = Field(
        default=0.4,
        ge=0.0,
        le=1.0,
        description="Score at which a sample becomes an anomaly (with tail calibration or the "
        "ensemble, 0.4 is one point in 10^4 for its series).",
    )
    z_onset: float = Field(
        default=3.0,
        ge=0,
        description="calibration: exponential: z below which the score is 0. The same map "
        "turns the ensemble's robust z into severity (z 7.2 high, 10.6 critical).",
    )
    z_scale: float = Field(
        default=4.0,
        gt=0,
        description="calibration: exponential: z above the onset that brings the score to 0.63.",
    )
    rest_points: int = Field(
        default=35,
        ge=0,
        le=1_000_000,
        description="After an anomaly opens, no new one opens on its series for this many "
        "points (0: no rest)...",
    )
    rest_fraction: float = Field(
        default=0.02,
        ge=0.0,
        lt=1.0,
        description="... or for this fraction of the points the series had before, when more.",
    )
    rest_break: float = Field(
        default=0.2,
        gt=0.0,
        le=1.0,
        description="A score this much above the one that started a rest opens an anomaly "
        "anyway (0.2: a point 100 times rarer).",
    )
    open_after_points: int = Field(
        default=1,
        ge=1,
        le=100,
        description="Points in a row above the threshold that open an anomaly (1 = at once).",
    )
    knobs: KnobSettings = Field(
        default_factory=KnobSettings, description="False-positive knobs for every metric."
    )
    per_metric: dict[str, KnobSettings] = Field(
        default_factory=_default_per_metric,
        description="Knobs by metric name, replacing the defaults for that metric.",
    )
    close_after_steps: int = Field(
        default=3, ge=1, description="Quiet points in a row that close an anomaly episode."
    )
    calendar: list[CalendarEvent] = Field(
        default_factory=list,
        description="Business events (sales, promotions, holidays) with their traffic "
        "multiplier: a change they explain is not an anomaly.",
    )
    calendar_metrics: list[str] = Field(
        default_factory=lambda: ["request_count", "net_in", "net_out", "cpu"],
        description="Metrics that grow in proportion to traffic, and so follow the calendar's "
        "multipliers (memory and latency do not: see docs/decisions.md).",
    )
