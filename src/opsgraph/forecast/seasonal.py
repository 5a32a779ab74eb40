"""The baselines: naive (the last value) and seasonal naive (the value one period ago)."""

from __future__ import annotations

from typing import Any

import numpy as np

from opsgraph.core.errors import InvalidInputError
from opsgraph.forecast.base import Forecaster, period_steps

DAY_S = 86_400.0
WEEK_S = 604_800.0


class Naive(Forecaster):
    """Every step ahead is the last finite value of the history."""

    name = "naive"
    min_points = 1

    def __init__(self) -> None:
        self._last = float("nan")

    def params(self) -> dict[str, Any]:
        return {}

    def _fit(self, grid: np.ndarray, step: float) -> None:
        finite = grid[np.isfinite(grid)]
        self._last = float(finite[-1])

    def _predict(self, h: int) -> np.ndarray:
        return np.full(h, self._last)


class SeasonalNaive(Forecaster):
    """Each step ahead is the last value seen at the same phase of the period (a day by
    default; `period_s=604800` for a week).

    Gaps: a phase whose latest value is missing falls back to the latest period in which that
    phase has a value; a phase never seen falls back to the last finite value. The history must
    span at least one period.
    """

    name = "seasonal_naive"
    min_points = 2

    def __init__(self, period_s: float = DAY_S) -> None:
        period = float(period_s)
        if not np.isfinite(period) or period <= 0:
            raise InvalidInputError("period_s", f"must be a finite positive number, got {period_s}")
        self.period_s = period
        self._by_phase = np.empty(0)
        self._n = 0

    def params(self) -> dict[str, Any]:
        return {"period_s": self.period_s}

    def _fit(self, grid: np.ndarray, step: float) -> None:
        n = grid.size
        p = period_steps(self.name, self.period_s, n, step)
        # Rows are periods aligned on the grid's origin; the last row is padded with NaN.
        rows = -(-n // p)
        flat = np.full(rows * p, np.nan)
        flat[:n] = grid
        table = flat.reshape(rows, p)
        ok = np.isfinite(table)
        # The last row with a value, per phase (argmax over the reversed rows).
        last_row = rows - 1 - np.argmax(ok[::-1], axis=0)
        seen = ok.any(axis=0)
        fallback = float(grid[np.isfinite(grid)][-1])
        by_phase = np.where(seen, table[last_row, np.arange(p)], fallback)
        self._by_phase, self._n = by_phase, n

    def _predict(self, h: int) -> np.ndarray:
        p = self._by_phase.size
        return self._by_phase[(self._n + np.arange(h)) % p].copy()


def seasonal_naive_daily() -> SeasonalNaive:
    """Seasonal naive with a one-day period."""
    return SeasonalNaive(period_s=DAY_S)


def seasonal_naive_weekly() -> SeasonalNaive:
    """Seasonal naive with a one-week period."""
    return SeasonalNaive(period_s=WEEK_S)
