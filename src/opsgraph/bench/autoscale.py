"""`opsgraph bench autoscale`: real load traces replayed as demand on a simulated group.

Each trace (`bench/forecast.py` loads them: Azure VM CPU, Bitbrains, NASA HTTP, 5-minute
steps) is the demand on a group of identical instances. One instance serves the trace's 99th
percentile / `PEAK_INSTANCES` at 100 %; a launched instance serves only after `boot_s`, and
is paid for from its launch. Every 5 minutes each policy decides the group's size from the
demand observed in the last 5 minutes (and, for the predictive policy, a forecast); the next
5 minutes of demand are then served by the instances running.

Policies, on the same trace and window (everything after the first `WARM_DAYS` days, which
are history only):

- **predictive + reactive**: opsgraph's policy (`forecast/scaling.py`) with its defaults
  (plan for the forecast's q0.9 at 70 % utilisation, launch ahead by the boot time, scale in
  only on observed demand below 35 %), the forecaster (default `seasonal_profile`) refitted
  every hour on all the demand seen so far and wrapped in `Conformal`;
- **reactive, 70 %**: the same policy without a forecast (what the forecast adds);
- **reactive (HPA)**: Kubernetes' Horizontal Pod Autoscaler's rule: ceil(demand / (50 % of
  an instance)), scale-in to the largest recommendation of the last 300 s;
- **static peak**: the fewest instances that never pass 90 % over the window, known in
  hindsight.

Figures: SLO-violation minutes (5-minute steps whose utilisation passes 90 %, or with demand
and no running instance; steps whose demand is a gap are not judged), instance-hours and
the number of scaling actions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from opsgraph.bench.forecast import STEP_S, TRACES, load_trace
from opsgraph.core.errors import InvalidInputError
from opsgraph.forecast import Conformal, create
from opsgraph.forecast.scaling import ScalingPolicy, decide

#: Days of each trace that are history only.
WARM_DAYS = 14
#: One instance serves the trace's 99th percentile / this many at 100 %.
PEAK_INSTANCES = 20
#: Utilisation above which a step counts as an SLO violation.
VIOLATION_AT = 0.9
#: The predictive policy refits its forecaster this often.
REFIT_S = 3_600.0
#: HPA's defaults: target utilisation and scale-in stabilisation window.
HPA_TARGET = 0.5
HPA_STABILISATION_S = 300.0
DEFAULT_FORECASTER = "seasonal_profile"


@dataclass
class SimulatedGroup:
    """Instances that serve once booted; removal takes pending launches first."""

    boot_s: float
    running: int
    pending: list[tuple[float, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.running + sum(n for _, n in self.pending)

    def advance(self, now: float) -> None:
        """Instances whose boot has finished by `now` start serving."""
        ready = [(t, n) for t, n in self.pending if t <= now]
        self.running += sum(n for _, n in ready)
        self.pending = [(t, n) for t, n in self.pending if t > now]

    def resize(self, desired: int, now: float) -> None:
        if desired > self.total:
            self.pending.append((now + self.boot_s, desired - self.total))
            return
        drop = self.total - desired
        while drop and self.pending:  # the newest launch goes first
            t, n = self.pending.pop()
            if n > drop:
                self.pending.append((t, n - drop))
                drop = 0
            else:
                drop -= n
        self.running -= drop


#: A policy: (step index, time now, instances now (launched), last observed demand) -> size.
Policy = Callable[[int, float, int, float], int]


def _replay(
    ts: np.ndarray,
    demand: np.ndarray,
    start: int,
    capacity: float,
    boot_s: float,
    initial: int,
    policy: Policy,
) -> dict[str, Any]:
    group = SimulatedGroup(boot_s, running=initial)
    violation_steps = judged = actions = outs = ins = 0
    instance_steps = 0.0
    for t in range(start, ts.size):
        now = float(ts[t])
        group.advance(now)
        desired = policy(t, now, group.total, float(demand[t - 1]))
        if desired != group.total:
            actions += 1
            outs += desired > group.total
            ins += desired < group.total
            group.resize(desired, now)
            group.advance(now)  # a boot of 0 s serves at once
        instance_steps += group.total
        d = demand[t]
        if math.isfinite(d):
            judged += 1
            if d > 0 and (group.running == 0 or d / (group.running * capacity) > VIOLATION_AT):
                violation_steps += 1
    return {
        "violation_minutes": violation_steps * STEP_S / 60,
        "judged_minutes": judged * STEP_S / 60,
        "instance_hours": instance_steps * STEP_S / 3600,
        "actions": actions,
        "scale_outs": outs,
        "scale_ins": ins,
    }


def _predictive(
    ts: np.ndarray,
    demand: np.ndarray,
    policy: ScalingPolicy,
    forecaster: str,
    use_forecast: bool,
    log: list[dict[str, Any]],
) -> Policy:
    state: dict[str, Any] = {"fts": None, "fq": None, "fit_ts": -math.inf, "changed": -math.inf}

    def run(t: int, now: float, current: int, observed: float) -> int:
        if use_forecast and now - state["fit_ts"] >= REFIT_S:
            model = Conformal(create(forecaster)).fit(ts[:t], demand[:t])
            ahead = math.ceil((policy.warmup_s + REFIT_S + STEP_S) / STEP_S) * STEP_S
            fc = model.predict(ahead, STEP_S, quantiles=(policy.quantile,))
            state.update(fts=fc.ts, fq=fc.quantiles[policy.quantile], fit_ts=now)
        decision = decide(
            policy,
            now=now,
            current=current,
            observed=observed,
            forecast_ts=state["fts"],
            forecast_q=state["fq"],
            horizon_s=STEP_S,
            last_change_ts=state["changed"],
        )
        if decision.delta:
            state["changed"] = now
            if len(log) < 20:
                log.append({"ts": now, "from": decision.current, "to": decision.desired,
                            "reason": decision.reason})  # fmt: skip
        return decision.desired

    return run


def _hpa(capacity: float) -> Policy:
    history: list[tuple[float, int]] = []

    def run(t: int, now: float, current: int, observed: float) -> int:
        if not math.isfinite(observed):
            return current
        want = max(1, math.ceil(observed / (HPA_TARGET * capacity) - 1e-9))
        history.append((now, want))
        while history and history[0][0] < now - HPA_STABILISATION_S:
            history.pop(0)
        if want >= current:
            return want
        return max(w for _, w in history)  # scale in to the window's largest recommendation

    return run


def evaluate_trace(
    ts: np.ndarray, demand: np.ndarray, *, boot_s: float, forecaster: str
) -> dict[str, Any]:
    """Every policy on one trace; see the module's docstring."""
    start = int(WARM_DAYS * 86_400 / STEP_S)
    if ts.size <= start + 1:
        raise InvalidInputError("data", f"a trace needs more than {WARM_DAYS} days")
    capacity = float(np.nanpercentile(demand, 99)) / PEAK_INSTANCES
    if not capacity > 0:
        raise InvalidInputError("data", "the trace's 99th percentile of demand is not positive")
    window = demand[start:]
    peak = float(np.nanmax(window))
    static = max(1, math.ceil(peak / (VIOLATION_AT * capacity) - 1e-9))
    policy = ScalingPolicy(capacity_per_instance=capacity, warmup_s=boot_s)
    # Every policy starts from the size that holds the last demand of the history.
    last = demand[start - 1] if math.isfinite(demand[start - 1]) else np.nanmax(demand[:start])
    initial = max(1, policy.instances_for(float(last)))
    log: list[dict[str, Any]] = []
    policies: list[tuple[str, Policy]] = [
        ("predictive + reactive", _predictive(ts, demand, policy, forecaster, True, log)),
        ("reactive, 70 %", _predictive(ts, demand, policy, forecaster, False, [])),
        ("reactive (HPA)", _hpa(capacity)),
        ("static peak", lambda t, now, current, observed: static),
    ]
    results = []
    for name, run in policies:
        started = time.perf_counter()
        figures = _replay(ts, demand, start, capacity, boot_s, initial, run)
        results.append({"policy": name, **figures, "seconds": time.perf_counter() - started})
    return {
        "capacity_per_instance": capacity,
        "static_instances": static,
        "evaluated_days": round((ts.size - start) * STEP_S / 86_400, 2),
        "results": results,
        "first_decisions": log,
    }


def run_autoscale_bench(
    data: Path,
    traces: tuple[str, ...] = TRACES,
    boot_s: float = 600.0,
    forecaster: str = DEFAULT_FORECASTER,
) -> dict[str, Any]:
    """Every policy on every trace."""
    if not (math.isfinite(boot_s) and 0 <= boot_s <= 86_400):
        raise InvalidInputError("boot_s", f"must be between 0 and 86400 seconds, got {boot_s}")
    create(forecaster)  # an unknown name fails before any trace is read
    started = time.perf_counter()
    report: dict[str, Any] = {
        "protocol": f"each trace replayed as demand after {WARM_DAYS} days of history; one "
        f"instance serves the trace's p99 / {PEAK_INSTANCES}; boot {boot_s:g} s; a 5-minute "
        f"step violates the SLO above {VIOLATION_AT:.0%} utilisation",
        "forecaster": forecaster,
        "boot_s": boot_s,
        "traces": [],
    }
    for name in traces:
        ts, demand = load_trace(data, name)
        report["traces"].append(
            {"trace": name, **evaluate_trace(ts, demand, boot_s=boot_s, forecaster=forecaster)}
        )
    report["wall_s"] = time.perf_counter() - started
    return report
