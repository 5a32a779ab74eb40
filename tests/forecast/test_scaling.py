"""The scaling decision: forecast ahead by the warm-up, a reactive floor, scale-in on observed
demand only."""

from __future__ import annotations

import math

import numpy as np
import pytest

from opsgraph.core.errors import InvalidInputError
from opsgraph.forecast.scaling import ScalingPolicy, decide

# One instance serves 100 units; at the 70 % target it holds 70.
POLICY = ScalingPolicy(capacity_per_instance=100.0, warmup_s=600.0, cooldown_in_s=300.0)
FTS = np.arange(1, 13) * 300.0  # a forecast every 5 minutes for an hour after t = 0


def _forecast(level: float, spike_at: float | None = None, spike: float = 0.0) -> np.ndarray:
    q = np.full(FTS.size, level)
    if spike_at is not None:
        q[np.isclose(FTS, spike_at)] = spike
    return q


def test_instances_hold_demand_at_the_target() -> None:
    assert POLICY.instances_for(70.0) == 1
    assert POLICY.instances_for(70.01) == 2
    assert POLICY.instances_for(700.0) == 10
    assert POLICY.instances_for(0.0) == 0
    assert POLICY.instances_for(math.nan) == 0


def test_it_launches_ahead_by_the_warm_up() -> None:
    # Demand of 1,400 forecast for t = 900 (in the window after the 600 s warm-up): 20 needed.
    q = _forecast(300.0, spike_at=900.0, spike=1_400.0)
    d = decide(POLICY, now=0.0, current=5, observed=300.0, forecast_ts=FTS, forecast_q=q)
    assert (d.desired, d.predictive, d.reactive) == (20, 20, 5)
    assert d.forecast == 1_400.0 and "forecast q0.9" in d.reason
    # The same spike at t = 300 is inside the warm-up: an instance launched now is too late.
    q = _forecast(300.0, spike_at=300.0, spike=1_400.0)
    d = decide(POLICY, now=0.0, current=5, observed=300.0, forecast_ts=FTS, forecast_q=q)
    assert d.desired == 5 and d.reason == "holds"


def test_the_larger_of_forecast_and_observation_wins() -> None:
    d = decide(POLICY, now=0.0, current=5, observed=1_000.0, forecast_ts=FTS,
               forecast_q=_forecast(300.0))  # fmt: skip
    assert (d.desired, d.reactive, d.predictive) == (15, 15, 5)
    assert d.reason.startswith("observed 1000 needs 15")


def test_a_forecast_alone_never_scales_in() -> None:
    low = _forecast(10.0)
    # Observed utilisation 50 %: the forecast says 1 instance, the group keeps 10.
    d = decide(POLICY, now=1e4, current=10, observed=500.0, forecast_ts=FTS + 1e4, forecast_q=low)
    assert (d.desired, d.predictive) == (10, 1) and "not below 35%" in d.reason
    # Nothing observed: hold.
    d = decide(POLICY, now=1e4, current=10, observed=math.nan, forecast_ts=FTS + 1e4,
               forecast_q=low)  # fmt: skip
    assert d.desired == 10 and "never scale in on a forecast alone" in d.reason
    assert math.isnan(d.utilisation)


def test_scale_in_on_observed_demand_after_the_cool_down() -> None:
    # Observed 200 on 10 instances (20 %): 3 hold it at 70 %, the forecast asks 5.
    q = _forecast(350.0)
    d = decide(POLICY, now=1e4, current=10, observed=200.0, forecast_ts=FTS + 1e4, forecast_q=q,
               last_change_ts=1e4 - 100)  # fmt: skip
    assert d.desired == 10 and "cool-down" in d.reason
    d = decide(POLICY, now=1e4, current=10, observed=200.0, forecast_ts=FTS + 1e4, forecast_q=q,
               last_change_ts=1e4 - 300)  # fmt: skip
    assert (d.desired, d.reactive, d.predictive) == (5, 3, 5)
    assert d.delta == -5 and "20.0% below 35%" in d.reason


def test_limits_and_forecast_only() -> None:
    policy = ScalingPolicy(
        capacity_per_instance=100.0, warmup_s=0.0, min_instances=2, max_instances=12,
        max_step_out=4, max_step_in=1,
    )  # fmt: skip
    big = _forecast(5_000.0)
    d = decide(policy, now=0.0, current=3, observed=100.0, forecast_ts=FTS, forecast_q=big)
    assert d.desired == 7 and "step limited to +4" in d.reason
    d = decide(policy, now=0.0, current=11, observed=100.0, forecast_ts=FTS, forecast_q=big)
    assert d.desired == 12  # the maximum
    d = decide(policy, now=1e4, current=5, observed=10.0)
    assert d.desired == 4  # one at a time, and never below the minimum of 2 ...
    d = decide(policy, now=1e4, current=2, observed=10.0)
    assert d.desired == 2
    shadow = ScalingPolicy(capacity_per_instance=100.0, warmup_s=0.0, forecast_only=True)
    d = decide(shadow, now=0.0, current=3, observed=150.0, forecast_ts=FTS, forecast_q=big)
    assert d.predictive == 72 and d.desired == 3  # computed and explained, not acted on


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"capacity_per_instance": 0.0}, "capacity_per_instance"),
        ({"capacity_per_instance": math.nan}, "capacity_per_instance"),
        ({"scale_in_at": 0.8}, "scale_in_at"),
        ({"scale_out_at": 1.5}, "scale_in_at"),
        ({"quantile": 1.0}, "quantile"),
        ({"warmup_s": -1.0}, "warmup_s"),
        ({"min_instances": 5, "max_instances": 2}, "min_instances"),
        ({"max_step_out": 0}, "max_step_out"),
        ({"max_step_in": 0}, "max_step_in"),
        ({"cooldown_in_s": math.inf}, "cooldown_in_s"),
    ],
)
def test_bad_policies_name_their_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        ScalingPolicy(**{"capacity_per_instance": 100.0, **kwargs})  # type: ignore[arg-type]
    assert err.value.field == field
    with pytest.raises(InvalidInputError) as err:
        decide(POLICY, now=0.0, current=-1, observed=1.0)
    assert err.value.field == "current"
