"""Split-conformal prediction intervals for any point forecaster.

`Conformal(forecaster, calibration_fraction=0.2)` keeps the last `calibration_fraction` of the
history (its grid cells) for calibration. From `origins` evenly spaced origins in that part
(the first at its start), a clone of the forecaster is fitted on everything before the origin
and forecasts to the end of the history; each forecast's absolute errors are kept by horizon
step h (1 = the next step). Then the forecaster is refitted on the whole history for the mean.

Intervals are symmetric around the mean, per horizon step: the quantile q < 0.5 is
mean - r(h), q > 0.5 is mean + r(h), with r(h) the ceil((k+1) c)/k empirical quantile
(c = |2q - 1|, the central coverage) of the k absolute errors at steps h/2 .. max(2h, h + 12)
(a band of neighbouring steps, so each step has enough errors and the width grows with the horizon).
Steps beyond the calibration part's length reuse the errors of its longest steps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from opsgraph.core.errors import InvalidInputError
from opsgraph.forecast.base import Forecaster


class Conformal(Forecaster):
    """Wrap a point forecaster: its mean, with split-conformal symmetric quantiles."""

    name = "conformal"

    def __init__(
        self, forecaster: Forecaster, calibration_fraction: float = 0.2, origins: int = 4
    ) -> None:
        if not isinstance(forecaster, Forecaster):
            raise InvalidInputError("forecaster", f"not a Forecaster: {forecaster!r}")
        frac = float(calibration_fraction)
        if not (0.0 < frac < 1.0):
            raise InvalidInputError(
                "calibration_fraction", f"must be in (0, 1), got {calibration_fraction}"
            )
        if int(origins) < 1:
            raise InvalidInputError("origins", f"must be at least 1, got {origins}")
        self.forecaster = forecaster.clone()
        self.calibration_fraction = frac
        self.origins = int(origins)
        # errors[i, h-1]: |error| of origin i at step h (NaN where unknown).
        self._errors = np.empty((0, 0))

    def params(self) -> dict[str, Any]:
        return {
            "forecaster": self.forecaster.clone(),
            "calibration_fraction": self.calibration_fraction,
            "origins": self.origins,
        }

    def _fit(self, grid: np.ndarray, step: float) -> None:
        n = grid.size
        calib = max(1, math.floor(self.calibration_fraction * n))
        start = n - calib
        if start < 2:
            raise InvalidInputError(
                "ts", f"history too short to keep {calib} steps for calibration"
            )
        cuts = sorted({start + (i * calib) // self.origins for i in range(self.origins)})
        errors = np.full((len(cuts), calib), np.nan)
        for row, cut in enumerate(cuts):
            inner = self.forecaster.clone()
            # The origin's own timestamp stands for the last one seen: only steps count here.
            inner.fit_grid(grid[:cut], step, 0.0)
            h = n - cut
            mean = np.asarray(inner._predict(h), dtype=float)
            errors[row, :h] = np.abs(grid[cut:] - mean)
        if not np.isfinite(errors).any():
            raise InvalidInputError("values", "no value in the calibration part to measure errors")
        self._errors = errors
        self.forecaster.fit_grid(grid, step, 0.0)

    def _predict(self, h: int) -> np.ndarray:
        return np.asarray(self.forecaster._predict(h), dtype=float)

    def radius(self, h: int, coverage: float) -> np.ndarray:
        """The half-width of the central `coverage` interval for steps 1..h."""
        width = self._errors.shape[1]
        out = np.empty(h)
        for step in range(1, h + 1):
            s = min(step, width)
            lo, hi = max(1, s // 2), min(width, max(2 * s, s + 12))
            pool = self._errors[:, lo - 1 : hi].ravel()
            pool = pool[np.isfinite(pool)]
            if pool.size == 0:
                pool = self._errors[np.isfinite(self._errors)]
            k = pool.size
            level = min(1.0, math.ceil((k + 1) * coverage) / k)
            out[step - 1] = float(np.quantile(pool, level, method="higher"))
        return out

    def _quantiles(
        self, h: int, mean: np.ndarray, quantiles: tuple[float, ...]
    ) -> dict[float, np.ndarray]:
        out: dict[float, np.ndarray] = {}
        for q in quantiles:
            if q == 0.5:
                out[q] = mean.copy()
                continue
            r = self.radius(h, abs(2.0 * q - 1.0))
            out[q] = mean - r if q < 0.5 else mean + r
        return out


def conformal(
    forecaster: str | Forecaster = "holt_winters",
    calibration_fraction: float = 0.2,
    origins: int = 4,
    **params: Any,
) -> Conformal:
    """Registry factory: `Conformal` around a forecaster given by name (with `params`) or as
    an object."""
    if isinstance(forecaster, str):
        from opsgraph.forecast.registry import create

        forecaster = create(forecaster, **params)
    elif params:
        raise InvalidInputError("params", f"unexpected parameters {sorted(params)}")
    return Conformal(forecaster, calibration_fraction=calibration_fraction, origins=origins)
