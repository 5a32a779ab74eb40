"""A seasonal profile that picks its own depth and level window on its history's last days.

The forecast at each step ahead is the mean of the last `k` periods' values at the same phase,
moved by the difference between the mean of the last `L` seconds and the mean of the same
seconds in those periods (a week that runs 10 % hot keeps running hot). One period (k = 1,
no level) is the seasonal naive; more periods average out one-off spikes; the level window
follows a trend or a shift the older periods did not have.

`fit` chooses k among `periods` and L among `level_s` by rolling origin on the history
itself: from each of the last `select_s` seconds' origins (one per `select_horizon_s`), every
candidate forecasts `select_horizon_s` ahead from the history before the origin, and the one
with the lowest mean absolute error wins. Nothing outside the history is looked at, so the
choice is made per series, at every refit, without a test set.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opsgraph.core.errors import InvalidInputError
from opsgraph.forecast.base import Forecaster, period_steps
from opsgraph.forecast.seasonal import DAY_S, WEEK_S


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")


def profile_forecast(grid: np.ndarray, h: int, period: int, k: int, level: int) -> np.ndarray:
    """The next `h` steps after `grid` (NaN = gap) from its last `k` periods and a level
    window of `level` steps; a phase with no value takes the last finite value."""
    n = grid.size
    j = np.arange(h)
    first = j // period + 1  # the most recent period behind step j
    total = np.zeros(h)
    count = np.zeros(h)
    for i in range(k):
        idx = n + j - (first + i) * period
        ok = idx >= 0
        values = np.full(h, np.nan)
        values[ok] = grid[idx[ok]]
        seen = np.isfinite(values)
        total[seen] += values[seen]
        count[seen] += 1
    out = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    if level > 0:
        recent = _mean(grid[max(n - level, 0) :])
        past = [
            _mean(grid[n - m * period - level : n - m * period])
            for m in range(1, k + 1)
            if n - m * period - level >= 0
        ]
        before = _mean(np.asarray(past))
        shift = recent - before
        if np.isfinite(shift):
            out = out + shift
    if np.isnan(out).any():
        finite = grid[np.isfinite(grid)]
        out = np.where(np.isnan(out), finite[-1] if finite.size else 0.0, out)
    return out


class SeasonalProfile(Forecaster):
    """The mean of the last k periods at the same phase plus a level shift; k and the level
    window chosen on the history's own last days (see the module's docstring)."""

    name = "seasonal_profile"
    min_points = 2

    def __init__(
        self,
        period_s: float = WEEK_S,
        periods: tuple[int, ...] = (1, 2, 3, 4),
        level_s: tuple[float, ...] = (0.0, 3_600.0, 10_800.0),
        select_s: float = 3 * DAY_S,
        select_horizon_s: float = DAY_S,
    ) -> None:
        period = float(period_s)
        if not np.isfinite(period) or period <= 0:
            raise InvalidInputError("period_s", f"must be a finite positive number, got {period_s}")
        ks = tuple(int(k) for k in periods)
        if not ks or min(ks) < 1:
            raise InvalidInputError("periods", f"need one or more depths >= 1, got {periods}")
        levels = tuple(float(s) for s in level_s)
        if not levels or min(levels) < 0 or not all(np.isfinite(levels)):
            raise InvalidInputError("level_s", f"need windows >= 0 seconds, got {level_s}")
        if not (select_s >= 0 and select_horizon_s > 0):
            raise InvalidInputError(
                "select_s", f"need select_s >= 0 and select_horizon_s > 0, got {select_s}"
            )
        self.period_s = period
        self.periods = ks
        self.level_s = levels
        self.select_s = float(select_s)
        self.select_horizon_s = float(select_horizon_s)
        self._grid = np.empty(0)
        self._period = 0
        #: The chosen depth and level window (in steps), and every candidate's selection MAE.
        self.chosen: tuple[int, int] = (ks[0], 0)
        self.selection: dict[tuple[int, int], float] = {}

    def params(self) -> dict[str, Any]:
        return {
            "period_s": self.period_s,
            "periods": self.periods,
            "level_s": self.level_s,
            "select_s": self.select_s,
            "select_horizon_s": self.select_horizon_s,
        }

    def _fit(self, grid: np.ndarray, step: float) -> None:
        n = grid.size
        p = period_steps(self.name, self.period_s, n, step)
        levels = sorted({round(s / step) for s in self.level_s})
        candidates = [(k, level) for k in self.periods for level in levels]
        horizon = max(1, round(self.select_horizon_s / step))
        origins = [
            n - d * horizon
            for d in range(1, int(self.select_s // self.select_horizon_s) + 1)
            if n - d * horizon >= p
        ]
        scores: dict[tuple[int, int], float] = {}
        for k, level in candidates:
            errors = []
            for o in origins:
                truth = grid[o : o + horizon]
                guess = profile_forecast(grid[:o], truth.size, p, k, level)
                ok = np.isfinite(truth)
                if ok.any():
                    errors.append(float(np.abs(guess[ok] - truth[ok]).mean()))
            if errors:
                scores[(k, level)] = float(np.mean(errors))
        # Without a usable origin: one period, no level (the seasonal naive).
        self.chosen = min(scores, key=lambda c: scores[c]) if scores else (min(self.periods), 0)
        self.selection = scores
        self._grid, self._period = grid.copy(), p

    def _predict(self, h: int) -> np.ndarray:
        k, level = self.chosen
        return profile_forecast(self._grid, h, self._period, k, level)
