"""The forecaster contract: fit on a history with gaps, predict a horizon with quantiles.

Every forecaster works on a regular grid: `fit` takes timestamps (float seconds) and values,
takes the median spacing of the timestamps as the history's step, and places the values on a
grid of that step from the first timestamp to the last (a missing timestamp, a NaN value: a NaN
cell). `predict` forecasts from the last timestamp `fit` saw and from nothing later: a
forecaster never looks ahead.
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from opsgraph.core.errors import InvalidInputError

# The most grid cells a history or a horizon may span (5 million: 47 years at 5 minutes).
MAX_CELLS = 5_000_000
DEFAULT_QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class Forecast:
    """Timestamps after the history, the mean forecast, and each quantile's forecast."""

    ts: np.ndarray
    mean: np.ndarray
    quantiles: dict[float, np.ndarray] = field(default_factory=dict)

    def interval(self, lo: float = 0.1, hi: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """The (lo, hi) quantile band; both must have been asked of `predict`."""
        for q in (lo, hi):
            if q not in self.quantiles:
                raise InvalidInputError("quantiles", f"{q} was not forecast")
        return self.quantiles[lo], self.quantiles[hi]


def _as_1d(name: str, a: Any) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(name, f"not numeric: {exc}") from exc
    if arr.ndim != 1:
        raise InvalidInputError(name, f"must be one-dimensional, got shape {arr.shape}")
    return arr


def to_grid(ts: Any, values: Any) -> tuple[np.ndarray, float, float]:
    """Validate a history and place it on a regular grid.

    Returns (grid values with NaN for gaps, the step in seconds = the median spacing, the
    last timestamp). Values that fall in the same cell (jittered timestamps): the later wins.
    """
    t = _as_1d("ts", ts)
    v = _as_1d("values", values)
    if t.shape != v.shape:
        raise InvalidInputError("values", f"{v.size} values for {t.size} timestamps")
    if t.size < 2:
        raise InvalidInputError("ts", f"need at least 2 timestamps, got {t.size}")
    if not np.all(np.isfinite(t)):
        raise InvalidInputError("ts", "timestamps must be finite")
    diffs = np.diff(t)
    if np.any(diffs <= 0):
        raise InvalidInputError("ts", "timestamps must be strictly increasing")
    if np.any(np.isinf(v)):
        raise InvalidInputError("values", "infinite values (use NaN for a gap)")
    step = float(np.median(diffs))
    idx = np.rint((t - t[0]) / step).astype(np.int64)
    cells = int(idx[-1]) + 1
    if cells > MAX_CELLS:
        raise InvalidInputError("ts", f"the history spans {cells} steps (at most {MAX_CELLS})")
    grid = np.full(cells, np.nan)
    grid[idx] = v
    return grid, step, float(t[-1])


def check_quantiles(quantiles: Sequence[float]) -> tuple[float, ...]:
    qs = tuple(float(q) for q in quantiles)
    for q in qs:
        if not (0.0 < q < 1.0):
            raise InvalidInputError("quantiles", f"each quantile must be in (0, 1), got {q}")
    return qs


class Forecaster(ABC):
    """A forecaster: `fit` on history, then `predict` any horizon from its end.

    Subclasses implement `_fit(grid, step)` on the regular grid (NaN = gap) and
    `_predict(h)` giving the mean for the next `h` grid steps; point forecasters return
    zero-width quantiles (the mean) unless they override `_quantiles` — wrap them in
    `Conformal` for calibrated intervals. Parameters are the constructor's keyword
    arguments and are returned by `params()`, so `clone()` rebuilds an unfitted copy.
    """

    name: ClassVar[str] = "forecaster"
    # The fewest finite values `fit` accepts.
    min_points: ClassVar[int] = 1

    _step: float | None = None
    _last_ts: float = math.nan

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """The constructor's arguments: `type(self)(**self.params())` is an unfitted twin."""

    def clone(self) -> Forecaster:
        """An unfitted copy with the same parameters."""
        return type(self)(**copy.deepcopy(self.params()))

    @property
    def fitted(self) -> bool:
        return self._step is not None

    @property
    def step_s(self) -> float:
        if self._step is None:
            raise InvalidInputError("forecaster", f"{self.name} is not fitted")
        return self._step

    def fit(self, ts: Any, values: Any) -> Forecaster:
        """Fit on timestamps (float seconds, increasing) and values (NaN for a gap)."""
        grid, step, last = to_grid(ts, values)
        return self.fit_grid(grid, step, last)

    def fit_grid(self, grid: np.ndarray, step: float, last_ts: float) -> Forecaster:
        """Fit on a grid already built by `to_grid` (what `Conformal` refits on)."""
        finite = int(np.isfinite(grid).sum())
        if finite < self.min_points:
            raise InvalidInputError(
                "values",
                f"{self.name} needs at least {self.min_points} finite values, got {finite}",
            )
        self._fit(grid, step)
        self._step, self._last_ts = step, last_ts
        return self

    def predict(
        self,
        horizon_s: float,
        step_s: float | None = None,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
    ) -> Forecast:
        """Forecast `horizon_s` seconds past the last fitted timestamp every `step_s` seconds
        (default: the history's step; it must be a whole multiple of it), with `quantiles`."""
        base = self.step_s
        step = base if step_s is None else float(step_s)
        if not math.isfinite(step) or step <= 0:
            raise InvalidInputError("step_s", f"must be a finite positive number, got {step_s}")
        k = round(step / base)
        if k < 1 or abs(k * base - step) > 1e-6 * step:
            raise InvalidInputError(
                "step_s", f"{step} is not a multiple of the history step {base}"
            )
        horizon = float(horizon_s)
        if not math.isfinite(horizon) or horizon <= 0:
            raise InvalidInputError(
                "horizon_s", f"must be a finite positive number, got {horizon_s}"
            )
        n = round(horizon / step)
        if n < 1 or abs(n * step - horizon) > 1e-6 * horizon:
            raise InvalidInputError("horizon_s", f"{horizon} is not a multiple of the step {step}")
        if n * k > MAX_CELLS:
            raise InvalidInputError("horizon_s", f"{n * k} steps ahead (at most {MAX_CELLS})")
        qs = check_quantiles(quantiles)
        h = n * k
        mean = np.asarray(self._predict(h), dtype=float)
        bands = self._quantiles(h, mean, qs)
        pick = np.arange(k - 1, h, k)
        return Forecast(
            ts=self._last_ts + step * np.arange(1, n + 1),
            mean=mean[pick],
            quantiles={q: np.asarray(bands[q], dtype=float)[pick] for q in qs},
        )

    @abstractmethod
    def _fit(self, grid: np.ndarray, step: float) -> None:
        """Fit on the regular grid (NaN = gap); raise InvalidInputError if it is too short."""

    @abstractmethod
    def _predict(self, h: int) -> np.ndarray:
        """The mean for the next `h` grid steps."""

    def _quantiles(
        self, h: int, mean: np.ndarray, quantiles: tuple[float, ...]
    ) -> dict[float, np.ndarray]:
        """Point forecasters: every quantile is the mean (wrap in `Conformal` for intervals)."""
        return {q: mean.copy() for q in quantiles}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


def steps_in(period_s: float, step: float, field_name: str = "period_s") -> int:
    """A period as a whole number of grid steps (at least 2)."""
    p = round(period_s / step)
    if p < 2 or abs(p * step - period_s) > 1e-6 * period_s:
        raise InvalidInputError(
            field_name, f"{period_s} s is not a multiple (>= 2) of the history step {step} s"
        )
    return int(p)


def period_steps(name: str, period_s: float, n: int, step: float) -> int:
    """A seasonal forecaster's period in grid steps; a history shorter than one period is an
    InvalidInputError on `ts`."""
    p = steps_in(period_s, step)
    if n < p:
        raise InvalidInputError(
            "ts",
            f"{name} needs a history of one period ({period_s:g} s), got {(n - 1) * step:g} s",
        )
    return p
