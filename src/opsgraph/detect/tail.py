"""A calibrator that learns each series' own tail: raw score -> probability of anomaly.

Peaks over threshold (the idea of SPOT, Siffer et al., KDD 2017): per series, the raw scores
seen so far give an empirical distribution; above its `level` quantile the exceedances are
modelled as exponential (a generalised Pareto tail of shape 0), so a new extreme maps to a tail
probability that keeps falling instead of saturating. The output is 1 - P(X >= raw), the same
scale for CPU percentages, request counts and latencies.

A point rarer than `cap_surprise` (one in 10^5 by default) is learned as if it were exactly that
rare (winsorised): the tail stays a model of the series' normal. Without the cap one outage's
raw scores fill the tail (ten points of z 40 among the 17 exceedances of 1,700 points), and the
same outage a day later scores as ordinary. SPOT drops such points altogether; that makes a
lasting level shift alert again after every rest, which the cap does not (measured on NAB and
the simulator, docs/benchmarks.md).
"""

from __future__ import annotations

import math

import numpy as np

from opsgraph.detect.base import FloatArray, IndexArray

#: Below twice this many points the median is the history's own; from there, that of the
#: sample ring.
MEDIAN_SAMPLE = 128
#: `learn` copies every SAMPLE_EVERY-th point into the sample ring.
SAMPLE_EVERY = 16
#: Points kept beyond the k a quantile needs, so that a few can leave between refits.
SPARE = 16


def tail_size(n: int, level: float, min_exceedances: int) -> int:
    """k: how many of n points the tail's quantile reads (`TailCalibrator`'s level rule)."""
    lvl = min(level, 1.0 - min_exceedances / n)
    return n - math.floor((n - 1) * lvl)


class TailCalibrator:
    """Streaming, per series, vectorised: `probability` scores, `learn` takes the raw scores.

    Each series' fit (median, `level` quantile, mean excess) is refreshed every `refit_every`
    points: a 2,000-point history moves little in 50 points, and refitting every 10 cost
    three quarters of the ensemble's time (NAB standard 66.66 at 10, 66.50 at 50). A refit
    updates the series' largest points with those learned since the last one, and reads the
    whole history only when too few are left; the median comes from every 16th point
    (`detect/tail_kernels.py`).
    """

    def __init__(
        self,
        history: int = 2000,
        level: float = 0.98,
        min_history: int = 50,
        refit_every: int = 50,
        cap_surprise: float | None = 5.0,
        min_exceedances: int = 3,
    ) -> None:
        if not 0.5 < level < 1.0 or history < 20 or min_history < 10:
            raise ValueError("need 0.5 < level < 1, history >= 20 and min_history >= 10")
        if cap_surprise is not None and cap_surprise <= -np.log10(1.0 - level):
            raise ValueError("cap_surprise must lie beyond the tail's level")
        self.cap_surprise = cap_surprise
        #: A young series' tail starts lower, so that it holds this many points: the `level`
        #: quantile of 200 points is their second largest, and a scale fitted to one or two
        #: points makes a series' first hours noisy. 10 halved the simulator's anomalies in its
        #: second hour but cost NAB 2.6 points against 3, whose extra anomalies are `medium`
        #: (severity comes from distance) and leave the simulator's paging as it was (chosen on
        #: NAB among 1, 3, 5 and 10, checked on the simulator; docs/benchmarks.md).
        self.min_exceedances = min_exceedances
        self.history = history
        self.level = level
        self.min_history = min_history
        self.refit_every = refit_every
        # Per series: the history ring, its median sample ring, the largest points with
        # their sequence numbers, and the fit (tail_kernels.py).
        self._width = (
            max(tail_size(n, level, min_exceedances) for n in range(min_history, history + 1))
            + SPARE
        )
        self._sample_size = max(1, history // SAMPLE_EVERY)
        self._buf = np.full((0, history), np.nan)
        self._sample = np.full((0, self._sample_size), np.nan)
        self._kept = np.full((0, self._width), np.nan)
        self._kept_seq = np.zeros((0, self._width), dtype=np.int64)
        self._kept_n = np.zeros(0, dtype=np.int64)
        self._pos = np.zeros(0, dtype=np.int64)
        self._count = np.zeros(0, dtype=np.int64)
        self._seq = np.zeros(0, dtype=np.int64)  # points learned, ever
        self._fit_seq = np.zeros(0, dtype=np.int64)  # _seq at the last fit (-1: none yet)
        # The tail fit per series: the level's quantile and the mean excess above it.
        self._q = np.full(0, np.nan)
        self._med = np.full(0, np.nan)
        self._mean_excess = np.full(0, np.nan)
        self._tail = np.full(0, 1.0 - level)  # the tail's share of each series' points
        self._since_fit = np.zeros(0, dtype=np.int64)

    def reserve(self, n_series: int) -> None:
        grow = n_series - self._buf.shape[0]
        if grow <= 0:
            return

        def rows(a: np.ndarray, fill: float | int) -> np.ndarray:
            return np.concatenate([a, np.full((grow, *a.shape[1:]), fill, dtype=a.dtype)])

        self._buf = rows(self._buf, np.nan)
        self._sample = rows(self._sample, np.nan)
        self._kept = rows(self._kept, np.nan)
        self._kept_seq = rows(self._kept_seq, 0)
        self._kept_n = rows(self._kept_n, 0)
        self._pos = rows(self._pos, 0)
        self._count = rows(self._count, 0)
        self._seq = rows(self._seq, 0)
        self._fit_seq = rows(self._fit_seq, -1)
        self._q = rows(self._q, np.nan)
        self._med = rows(self._med, np.nan)
        self._mean_excess = rows(self._mean_excess, np.nan)
        self._tail = rows(self._tail, 1.0 - self.level)
        self._since_fit = rows(self._since_fit, 1 << 30)

    def probability(self, idx: IndexArray, raw: FloatArray) -> FloatArray:
        """1 - P(X >= raw) under each series' fitted distribution; 0 while it has too little.

        Above the quantile: the exponential tail. Between the median and the quantile, the
        tail probability runs from 0.5 to 1 - level on a log scale; at or below the median a
        point is plain normal. (Its exact rank would cost a pass over the whole history; below
        the quantile the probability of anomaly stays under `level`, far from any alert
        threshold, so no alert depends on it.) Series due a refit are refitted first."""
        from opsgraph.detect import tail_kernels

        return np.asarray(
            tail_kernels.tail_probability(
                self._buf,
                self._pos,
                self._count,
                self._seq,
                self._since_fit,
                self._fit_seq,
                self._q,
                self._med,
                self._mean_excess,
                self._tail,
                self._kept,
                self._kept_seq,
                self._kept_n,
                self._sample,
                np.ascontiguousarray(idx, dtype=np.int64),
                np.ascontiguousarray(raw, dtype=np.float64),
                self.level,
                self.min_history,
                self.min_exceedances,
                self.refit_every,
                SAMPLE_EVERY,
            ),
            dtype=np.float64,
        )

    def learn(self, idx: IndexArray, raw: FloatArray) -> None:
        """Append each series' raw score (NaN skipped) to its history, capped at one in
        10^cap_surprise under its current fit."""
        from opsgraph.detect import tail_kernels

        tail_kernels.tail_learn(
            self._buf,
            self._pos,
            self._count,
            self._seq,
            self._since_fit,
            self._q,
            self._mean_excess,
            self._tail,
            self._sample,
            np.ascontiguousarray(idx, dtype=np.int64),
            np.ascontiguousarray(raw, dtype=np.float64),
            np.nan if self.cap_surprise is None else float(self.cap_surprise),
            self.min_history,
            SAMPLE_EVERY,
        )
