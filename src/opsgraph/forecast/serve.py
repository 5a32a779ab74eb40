"""One series' forecast with its 80 % interval, as the API and the CLI show it.

`forecast_series` fits the named forecaster (or `auto`) wrapped in `Conformal` on a history
and forecasts a horizon. `auto` takes the seasonal profile over weeks once the history holds
enough weeks for it and its calibration (9 days), over days from 2 days, and the last value
before that: a young estate gets a forecast, labelled with what made it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from opsgraph.core.errors import InvalidInputError
from opsgraph.forecast.base import Forecaster, to_grid
from opsgraph.forecast.conformal import Conformal
from opsgraph.forecast.profile import SeasonalProfile
from opsgraph.forecast.registry import create
from opsgraph.forecast.seasonal import DAY_S, Naive

AUTO = "auto"
#: `auto` takes the weekly profile from this much history, the daily one from the next.
WEEKLY_FROM_S = 9 * DAY_S
DAILY_FROM_S = 2 * DAY_S
#: The longest horizon served.
MAX_HORIZON_S = 14 * DAY_S


def auto_forecaster(span_s: float) -> Forecaster:
    """The forecaster `auto` picks for a history spanning `span_s` seconds."""
    if span_s >= WEEKLY_FROM_S:
        return SeasonalProfile()
    if span_s >= DAILY_FROM_S:
        return SeasonalProfile(period_s=DAY_S, periods=(1, 2, 3, 5, 7))
    return Naive()


def forecast_series(
    ts: Any,
    values: Any,
    *,
    horizon_s: float = DAY_S,
    step_s: float | None = None,
    forecaster: str = AUTO,
) -> dict[str, Any]:
    """The forecast of one series: timestamps, mean and the q0.1 / q0.9 band, with the
    forecaster that made it (its parameters, and for the profile what it chose)."""
    if not (math.isfinite(horizon_s) and 0 < horizon_s <= MAX_HORIZON_S):
        raise InvalidInputError(
            "horizon_s", f"must be in (0, {MAX_HORIZON_S:g}] seconds, got {horizon_s}"
        )
    grid, step, last = to_grid(ts, values)
    span = (grid.size - 1) * step
    inner = auto_forecaster(span) if forecaster == AUTO else create(forecaster)
    model = Conformal(inner, calibration_fraction=0.2)
    model.fit_grid(grid, step, last)
    out_step = step if step_s is None else float(step_s)
    # A horizon that is not a whole number of steps is cut to the last whole one.
    steps = max(1, math.floor(horizon_s / out_step + 1e-9))
    fc = model.predict(steps * out_step, out_step, quantiles=(0.1, 0.9))
    lower, upper = fc.interval(0.1, 0.9)
    fitted = model.forecaster
    described: dict[str, Any] = {"name": fitted.name, "params": _plain(fitted.params())}
    if isinstance(fitted, SeasonalProfile):
        k, level = fitted.chosen
        described["chosen"] = {"periods": k, "level_s": level * step}
    return {
        "forecaster": described,
        "asked": forecaster,
        "history": {
            "points": int(np.isfinite(grid).sum()),
            "start": float(last - span),
            "end": float(last),
            "step_s": step,
        },
        "step_s": out_step,
        "interval": 0.8,
        "ts": fc.ts.tolist(),
        "mean": fc.mean.tolist(),
        "lower": lower.tolist(),
        "upper": upper.tolist(),
    }


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as JSON can carry them (a wrapped forecaster by its name)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Forecaster):
            out[key] = value.name
        elif isinstance(value, tuple):
            out[key] = list(value)
        else:
            out[key] = value
    return out
