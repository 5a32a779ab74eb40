"""Holt-Winters exponential smoothing (additive season, damped additive trend), in numpy.

statsforecast (AutoETS, MSTL) was the first choice; installing it here would downgrade the
locked pandas (3.1 -> 2.3), so this small model stands in. Its smoothing parameters are picked
on a coarse grid by the sum of squared one-step-ahead errors over the history after the first
period (the first period sets the initial level and season); all grid points run together as
vectors, so one pass over the history fits them all.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from opsgraph.core.errors import InvalidInputError
from opsgraph.forecast.base import Forecaster, steps_in
from opsgraph.forecast.seasonal import DAY_S

ALPHAS: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.4, 0.7)
BETAS: tuple[float, ...] = (0.0, 0.005, 0.02)
GAMMAS: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.4)


def _grid(values: Sequence[float] | None, default: tuple[float, ...], name: str) -> list[float]:
    out = [float(v) for v in (default if values is None else values)]
    if not out or any(not (0.0 <= v <= 1.0) for v in out):
        raise InvalidInputError(name, f"must be a non-empty list of numbers in [0, 1], got {out}")
    return out


class HoltWinters(Forecaster):
    """Additive Holt-Winters with one season (a day by default) and a damped trend.

    `alphas`, `betas`, `gammas` are the grids searched for level, trend and season smoothing;
    `phi` is the trend damping per step. The history must span two periods.
    """

    name = "holt_winters"
    min_points = 3

    def __init__(
        self,
        period_s: float = DAY_S,
        phi: float = 0.98,
        alphas: Sequence[float] | None = None,
        betas: Sequence[float] | None = None,
        gammas: Sequence[float] | None = None,
    ) -> None:
        self.period_s = float(period_s)
        if not np.isfinite(self.period_s) or self.period_s <= 0:
            raise InvalidInputError("period_s", f"must be a finite positive number, got {period_s}")
        self.phi = float(phi)
        if not (0.0 < self.phi <= 1.0):
            raise InvalidInputError("phi", f"must be in (0, 1], got {phi}")
        self.alphas = _grid(alphas, ALPHAS, "alphas")
        self.betas = _grid(betas, BETAS, "betas")
        self.gammas = _grid(gammas, GAMMAS, "gammas")
        self.chosen: dict[str, float] = {}
        self._level = 0.0
        self._trend = 0.0
        self._season = np.empty(0)
        self._n = 0

    def params(self) -> dict[str, Any]:
        return {
            "period_s": self.period_s,
            "phi": self.phi,
            "alphas": list(self.alphas),
            "betas": list(self.betas),
            "gammas": list(self.gammas),
        }

    def _fit(self, grid: np.ndarray, step: float) -> None:
        m = steps_in(self.period_s, step)
        n = grid.size
        if n < 2 * m:
            raise InvalidInputError(
                "ts",
                f"{self.name} needs a history of two periods ({2 * self.period_s:g} s), "
                f"got {(n - 1) * step:g} s",
            )
        first = grid[:m]
        ok = np.isfinite(first)
        if not ok.any():
            fin = grid[np.isfinite(grid)]
            level0 = float(fin[0])
            season0 = np.zeros(m)
        else:
            level0 = float(first[ok].mean())
            season0 = np.where(ok, first - level0, 0.0)
        combos = np.array(list(itertools.product(self.alphas, self.betas, self.gammas)))
        a, b, g = combos[:, 0], combos[:, 1], combos[:, 2]
        k = combos.shape[0]
        phi = self.phi
        level = np.full(k, level0)
        trend = np.zeros(k)
        season = np.repeat(season0[:, None], k, axis=1)
        sse = np.zeros(k)
        for t in range(m, n):
            y = grid[t]
            s = season[t % m]
            damped = phi * trend
            if y != y:  # a gap: carry the state forward
                level = level + damped
                trend = damped
                continue
            err = y - (level + damped + s)
            sse += err * err
            new_level = a * (y - s) + (1.0 - a) * (level + damped)
            trend = b * (new_level - level) + (1.0 - b) * damped
            season[t % m] = g * (y - new_level) + (1.0 - g) * s
            level = new_level
        sse[~np.isfinite(sse)] = np.inf
        best = int(np.argmin(sse))
        self.chosen = {"alpha": float(a[best]), "beta": float(b[best]), "gamma": float(g[best])}
        self._level, self._trend = float(level[best]), float(trend[best])
        self._season, self._n = season[:, best].copy(), n

    def _predict(self, h: int) -> np.ndarray:
        steps = np.arange(1, h + 1)
        if self.phi == 1.0:
            damp = steps.astype(float)
        else:
            damp = self.phi * (1.0 - self.phi**steps) / (1.0 - self.phi)
        m = self._season.size
        return self._level + damp * self._trend + self._season[(self._n - 1 + steps) % m]
