"""Scaling a group ahead of demand: one decision from a forecast and what was observed.

The capacity a group needs is the larger of two answers:

- **predictive**: the forecast's `quantile` of demand over the window in which an instance
  launched now would serve (it boots for `warmup_s` first), divided by what one instance
  serves at the target utilisation (`scale_out_at`, 70 % by default);
- **reactive**: the demand observed last, at the same target (target tracking).

The group scales out to that capacity at once (at most `max_step_out` instances per decision).
It scales in only on observed demand: while the observed utilisation of the running
instances is below `scale_in_at` (35 %), and no sooner than `cooldown_in_s` after the last
change; a forecast alone never removes an instance, and scale-in goes no lower than the
forecast's own capacity. `forecast_only` computes and explains the predictive capacity but
acts on the reactive one, so a forecaster can prove itself before it is allowed to act.

Every decision says why (`Decision.reason`), with the forecast quantile it used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from opsgraph.core.errors import InvalidInputError


@dataclass(frozen=True)
class ScalingPolicy:
    """What one group's scaling decisions obey; see the module's docstring."""

    #: Demand one instance serves at 100 % utilisation (in the demand's own unit).
    capacity_per_instance: float
    #: Target utilisation: capacity is planned so that demand fills this share of it.
    scale_out_at: float = 0.70
    #: Observed utilisation below which instances may be removed.
    scale_in_at: float = 0.35
    #: The forecast quantile that capacity is planned for.
    quantile: float = 0.9
    #: Seconds an instance takes from launch to serving.
    warmup_s: float = 600.0
    min_instances: int = 1
    max_instances: int = 1_000
    #: Most instances added by one decision (None: no limit).
    max_step_out: int | None = None
    #: Most instances removed by one decision.
    max_step_in: int = 1_000
    #: Seconds after any change before instances may be removed (scale-in protection).
    cooldown_in_s: float = 300.0
    #: Compute the predictive capacity but act on the reactive one only.
    forecast_only: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.capacity_per_instance) and self.capacity_per_instance > 0):
            raise InvalidInputError(
                "capacity_per_instance",
                f"must be a positive number, got {self.capacity_per_instance}",
            )
        if not 0.0 < self.scale_in_at < self.scale_out_at <= 1.0:
            raise InvalidInputError(
                "scale_in_at",
                f"need 0 < scale_in_at < scale_out_at <= 1, got {self.scale_in_at} and "
                f"{self.scale_out_at}",
            )
        if not 0.0 < self.quantile < 1.0:
            raise InvalidInputError("quantile", f"must be in (0, 1), got {self.quantile}")
        if not (math.isfinite(self.warmup_s) and self.warmup_s >= 0):
            raise InvalidInputError("warmup_s", f"must be >= 0 seconds, got {self.warmup_s}")
        if not 0 <= self.min_instances <= self.max_instances:
            raise InvalidInputError(
                "min_instances",
                f"need 0 <= min_instances <= max_instances, got {self.min_instances} and "
                f"{self.max_instances}",
            )
        if self.max_step_out is not None and self.max_step_out < 1:
            raise InvalidInputError("max_step_out", f"must be at least 1, got {self.max_step_out}")
        if self.max_step_in < 1:
            raise InvalidInputError("max_step_in", f"must be at least 1, got {self.max_step_in}")
        if not (math.isfinite(self.cooldown_in_s) and self.cooldown_in_s >= 0):
            raise InvalidInputError(
                "cooldown_in_s", f"must be >= 0 seconds, got {self.cooldown_in_s}"
            )

    def instances_for(self, demand: float) -> int:
        """Instances that hold `demand` at the target utilisation (0 for no demand)."""
        if not math.isfinite(demand) or demand <= 0:
            return 0
        return math.ceil(demand / (self.scale_out_at * self.capacity_per_instance) - 1e-9)


@dataclass(frozen=True)
class Decision:
    """One scaling decision and why it was taken."""

    ts: float
    current: int
    desired: int
    reactive: int
    #: None without a usable forecast.
    predictive: int | None
    #: The forecast quantile of demand the predictive capacity was planned for.
    forecast: float | None
    #: Observed utilisation of the current instances (NaN without an observation).
    utilisation: float
    reason: str

    @property
    def delta(self) -> int:
        return self.desired - self.current


def decide(
    policy: ScalingPolicy,
    *,
    now: float,
    current: int,
    observed: float,
    forecast_ts: np.ndarray | None = None,
    forecast_q: np.ndarray | None = None,
    horizon_s: float = 300.0,
    last_change_ts: float = -math.inf,
) -> Decision:
    """The group's capacity now.

    `observed` is the latest observed demand (NaN when none); `forecast_ts` / `forecast_q` the
    forecast's timestamps and its `policy.quantile` values, of which those in
    (now + warmup_s, now + warmup_s + horizon_s] are read; `horizon_s` is how long the
    decision holds (the decision interval)."""
    if current < 0:
        raise InvalidInputError("current", f"must be >= 0, got {current}")
    reactive = policy.instances_for(observed)
    predictive: int | None = None
    peak: float | None = None
    if forecast_ts is not None and forecast_q is not None:
        start = now + policy.warmup_s
        window = (forecast_ts > start) & (forecast_ts <= start + max(horizon_s, 0.0))
        values = forecast_q[window]
        values = values[np.isfinite(values)]
        if values.size:
            peak = float(values.max())
            predictive = policy.instances_for(peak)
    have = current * policy.capacity_per_instance
    utilisation = observed / have if math.isfinite(observed) and have > 0 else math.nan
    acting = None if policy.forecast_only else predictive
    need = max(reactive, acting if acting is not None else 0)
    need = min(max(need, policy.min_instances), policy.max_instances)
    if need > current:
        step = need - current
        if policy.max_step_out is not None:
            step = min(step, policy.max_step_out)
        desired = current + step
        if acting is not None and acting >= reactive and acting > current:
            reason = (
                f"forecast q{policy.quantile:g} {peak:.4g} from {policy.warmup_s:g} s ahead needs "
                f"{acting} at {policy.scale_out_at:.0%}"
            )
        else:
            reason = f"observed {observed:.4g} needs {reactive} at {policy.scale_out_at:.0%}"
        if desired < need:
            reason += f" (step limited to +{step})"
        return Decision(now, current, desired, reactive, predictive, peak, utilisation, reason)
    if need < current:
        if not math.isfinite(utilisation):
            why = "no observed demand: never scale in on a forecast alone"
        elif utilisation >= policy.scale_in_at:
            why = f"observed utilisation {utilisation:.1%} is not below {policy.scale_in_at:.0%}"
        elif now - last_change_ts < policy.cooldown_in_s:
            why = f"in the {policy.cooldown_in_s:g} s cool-down after the last change"
        else:
            desired = max(need, current - policy.max_step_in)
            reason = (
                f"observed utilisation {utilisation:.1%} below {policy.scale_in_at:.0%}: "
                f"{desired} hold the observed demand"
            )
            if predictive is not None and not policy.forecast_only:
                reason += f" and the forecast's {predictive}"
            return Decision(now, current, desired, reactive, predictive, peak, utilisation, reason)
        return Decision(now, current, current, reactive, predictive, peak, utilisation, why)
    return Decision(now, current, current, reactive, predictive, peak, utilisation, "holds")
