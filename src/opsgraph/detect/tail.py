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

from collections.abc import Sequence

import numpy as np

from opsgraph.detect.base import FloatArray, IndexArray


class TailCalibrator:
    """Streaming, per series, vectorised: `probability` scores, `learn` takes the raw scores.

    Each series' fit (median, `level` quantile, mean excess) is refreshed every `refit_every`
    points: a 2,000-point history moves little in 50 points, and refitting every 10 cost
    three quarters of the ensemble's time (NAB standard 66.66 at 10, 66.50 at 50).
    """

    def __init__(
        self,
        history: int = 2000,
        level: float = 0.98,
        min_history: int = 50,
        refit_every: int = 50,
        cap_surprise: float | None = 5.0,
        min_exceedances: int = 10,
    ) -> None:
        if not 0.5 < level < 1.0 or history < 20 or min_history < 10:
            raise ValueError("need 0.5 < level < 1, history >= 20 and min_history >= 10")
        if cap_surprise is not None and cap_surprise <= -np.log10(1.0 - level):
            raise ValueError("cap_surprise must lie beyond the tail's level")
        self.cap_surprise = cap_surprise
        #: A young series' tail starts lower, so that it holds this many points: the `level`
        #: quantile of 200 points is their second largest, and a scale fitted to two points
        #: makes the first hours of every series noisy (measured on the simulator).
        self.min_exceedances = min_exceedances
        self.history = history
        self.level = level
        self.min_history = min_history
        self.refit_every = refit_every
        self._buf = np.full((0, history), np.nan)
        self._pos = np.zeros(0, dtype=np.int64)
        self._count = np.zeros(0, dtype=np.int64)
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
        self._buf = np.vstack([self._buf, np.full((grow, self.history), np.nan)])
        self._pos = np.concatenate([self._pos, np.zeros(grow, dtype=np.int64)])
        self._count = np.concatenate([self._count, np.zeros(grow, dtype=np.int64)])
        self._q = np.concatenate([self._q, np.full(grow, np.nan)])
        self._med = np.concatenate([self._med, np.full(grow, np.nan)])
        self._mean_excess = np.concatenate([self._mean_excess, np.full(grow, np.nan)])
        self._tail = np.concatenate([self._tail, np.full(grow, 1.0 - self.level)])
        self._since_fit = np.concatenate([self._since_fit, np.full(grow, 1 << 30)])

    def probability(self, idx: IndexArray, raw: FloatArray) -> FloatArray:
        """1 - P(X >= raw) under each series' fitted distribution; 0 while it has too little."""
        self._refit(idx)
        out = np.zeros(idx.shape[0])
        ready = (self._count[idx] >= self.min_history) & np.isfinite(raw)
        if not ready.any():
            return out
        sel = idx[ready]
        x = raw[ready]
        q = self._q[sel]
        me = np.maximum(np.nan_to_num(self._mean_excess[sel], nan=1.0), 1e-12)
        tail = self._tail[sel]
        # Above the quantile: the exponential tail. Between the median and the quantile, the
        # tail probability runs from 0.5 to 1 - level on a log scale; at or below the median
        # a point is plain normal. (Its exact rank would cost a pass over the whole history;
        # below the quantile the probability of anomaly stays under `level`, far from any
        # alert threshold, so no alert depends on it.)
        med = self._med[sel]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.clip((x - med) / (q - med), 0.0, 1.0)
        between = 0.5 * (tail / 0.5) ** np.nan_to_num(share, nan=1.0)
        flat = np.isnan(self._mean_excess[sel])
        first_ever = 1.0 / (self._count[sel] + 1.0)
        above = np.where(flat, first_ever, tail * np.exp(np.minimum((q - x) / me, 0.0)))
        p_exceed = np.where(x > q, above, np.where(x <= med, 1.0, between))
        out[ready] = 1.0 - p_exceed
        return out

    def learn(self, idx: IndexArray, raw: FloatArray) -> None:
        keep = np.isfinite(raw)
        idx, raw = idx[keep], raw[keep]
        if self.cap_surprise is not None:
            raw = np.minimum(raw, self._cap(idx))
        pos = self._pos[idx]
        self._buf[idx, pos] = raw
        self._pos[idx] = (pos + 1) % self.history
        self._count[idx] = np.minimum(self._count[idx] + 1, self.history)
        self._since_fit[idx] += 1

    def _cap(self, idx: IndexArray) -> FloatArray:
        """The raw score one in 10^cap_surprise under each series' current fit (inf without
        one: nothing is capped before the tail is known)."""
        assert self.cap_surprise is not None
        log_ratio = np.log(self._tail[idx]) + self.cap_surprise * np.log(10.0)
        cap = self._q[idx] + self._mean_excess[idx] * log_ratio
        ready = (self._count[idx] >= self.min_history) & np.isfinite(cap)
        return np.where(ready, cap, np.inf)

    def _refit(self, idx: IndexArray) -> None:
        due = idx[
            (self._since_fit[idx] >= self.refit_every) & (self._count[idx] >= self.min_history)
        ]
        if due.shape[0] == 0:
            return
        count = self._count[due]
        level = np.minimum(self.level, 1.0 - self.min_exceedances / count)
        med, q, me = np.empty((3, due.shape[0]))
        counts, group = np.unique(count, return_inverse=True)
        if counts.shape[0] <= _PARTITION_GROUPS:
            # One partition per row, in groups of rows with as many points: the median, the
            # quantile and, past it, the few exceedances.
            for g, n in enumerate(counts.tolist()):
                rows_of = group == g
                # A ring that has not wrapped yet holds its points in its first n slots.
                med[rows_of], q[rows_of], me[rows_of] = _partition_fit(
                    self._buf[due[rows_of], :n], float(level[rows_of][0])
                )
        else:
            rows = self._buf[due]
            med, q = _gappy_quantile(rows, count, [np.full(rows.shape[0], 0.5), level])
            me = _mean_excess(rows, q)
        self._q[due] = q
        self._med[due] = med
        self._mean_excess[due] = me
        self._tail[due] = 1.0 - level
        self._since_fit[due] = 0


def _mean_excess(rows: FloatArray, q: FloatArray) -> FloatArray:
    """Per row, the mean of the values above q, less q. A flat tail (no exceedance at all: a
    CUSUM that has never left 0) has no scale to extrapolate with: NaN, and a point above it
    is as rare as a first ever (`probability`)."""
    over = rows > q[:, None]  # NaN (empty slots) compares False
    n_over = over.sum(axis=1)
    total = np.where(over, rows, 0.0).sum(axis=1) - n_over * q
    return np.where(n_over > 0, total / np.maximum(n_over, 1), np.nan)


def _lerp(a: FloatArray, b: FloatArray, t: float | FloatArray) -> FloatArray:
    """numpy's linear interpolation: from the nearer end, exact at t = 0 and t = 1."""
    diff = b - a
    return np.asarray(np.where(np.asarray(t) >= 0.5, b - diff * (1 - t), a + diff * t))


#: Refits whose rows hold more distinct point counts than this sort them instead.
_PARTITION_GROUPS = 8


def _partition_fit(rows: FloatArray, level: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Median, `level` quantile (as np.quantile computes them) and mean excess of each row,
    from one in-place partition of `rows` (a copy, no gaps): the values past the quantile's
    lower neighbour are the only candidates for exceedances, a few dozen of thousands."""
    n = rows.shape[1]
    h_med, h_q = (n - 1) * 0.5, (n - 1) * level
    lo_m, lo_q = int(np.floor(h_med)), int(np.floor(h_q))
    hi_m, hi_q = min(lo_m + 1, n - 1), min(lo_q + 1, n - 1)
    rows.partition(sorted({lo_m, hi_m, lo_q, hi_q}), axis=1)
    med = _lerp(rows[:, lo_m], rows[:, hi_m], h_med - lo_m)
    q = _lerp(rows[:, lo_q], rows[:, hi_q], h_q - lo_q)
    return med, q, _mean_excess(rows[:, lo_q:], q)


def _gappy_quantile(
    rows: FloatArray, counts: IndexArray, levels: Sequence[float | FloatArray]
) -> FloatArray:
    """Per level (a number, or one per row) and row, the quantile of the row's first `counts`
    finite values (NaN elsewhere), by linear interpolation as numpy's default method computes
    it, without nanquantile's loop over rows."""
    ordered = np.sort(rows, axis=1)  # NaN sorts last
    r = np.arange(rows.shape[0])
    out = np.empty((len(levels), rows.shape[0]))
    for k, level in enumerate(levels):
        h = (counts - 1) * np.asarray(level, dtype=np.float64)
        lo = np.floor(h).astype(np.int64)
        hi = np.minimum(lo + 1, counts - 1)
        out[k] = _lerp(ordered[r, lo], ordered[r, hi], np.asarray(h - lo, dtype=np.float64))
    return out
