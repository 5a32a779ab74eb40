"""Rolling robust z-score (median / MAD) per series, vectorised across all series at once.

Each series keeps a ring buffer of its last `window` points and, once full, the same points
sorted, updated in place per point, so the median is a lookup and the MAD a short search.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from opsgraph.detect.base import BoolArray, FloatArray, IndexArray, learnable

_MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation
_MEANAD_TO_SIGMA = 1.2533  # the same for the mean absolute deviation (used when MAD is 0)
#: Window elements sorted at once by `rolling_baselines` (bounds its memory).
_CHUNK_ELEMENTS = 1 << 20


class RobustZDetector:
    """|x - median| / (1.4826 * MAD) over a rolling window, for many series in one call."""

    name = "robust_z"

    def __init__(self, window: int = 60, min_points: int = 20, rel_floor: float = 1e-3) -> None:
        if window < 3 or not 3 <= min_points <= window:
            raise ValueError("need window >= 3 and 3 <= min_points <= window")
        self.window = window
        self.min_points = min_points
        # Floor on the scale relative to the median: a flat series that moves by 0.1 % is noise.
        self.rel_floor = rel_floor
        self._buf = np.full((0, window), np.nan)  # ring buffer, in arrival order
        self._sorted = np.full((0, window), np.nan)  # the same points sorted (full rows only)
        self._pos = np.zeros(0, dtype=np.int64)
        self._count = np.zeros(0, dtype=np.int64)
        self._work = _Workspace()

    @property
    def n_series(self) -> int:
        return int(self._buf.shape[0])

    def reserve(self, n_series: int) -> None:
        grow = n_series - self.n_series
        if grow <= 0:
            return
        self._buf = np.vstack([self._buf, np.full((grow, self.window), np.nan)])
        self._sorted = np.vstack([self._sorted, np.full((grow, self.window), np.nan)])
        self._pos = np.concatenate([self._pos, np.zeros(grow, dtype=np.int64)])
        self._count = np.concatenate([self._count, np.zeros(grow, dtype=np.int64)])

    def baseline(self, idx: IndexArray) -> tuple[FloatArray, FloatArray]:
        """Median and robust scale of each series' window (NaN while warming up)."""
        count = self._count[idx]
        med = np.full(idx.shape[0], np.nan)
        scale = np.full(idx.shape[0], np.nan)
        full = count >= self.window
        partial = (count >= self.min_points) & ~full
        if full.any():
            sel = idx if full.all() else idx[full]
            rows = self._sorted if _is_everything(sel, self.n_series) else self._sorted[sel]
            med[full], scale[full] = _sorted_median_scale(rows)
        if partial.any():
            med[partial], scale[partial] = _nan_median_scale(self._buf[idx[partial]])
        scale = np.maximum(scale, self.rel_floor * np.abs(med))
        return med, np.maximum(scale, 1e-9)

    def score(
        self, idx: IndexArray, values: FloatArray, ts: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        med, scale = self.baseline(idx)
        return np.asarray(np.abs(values - med) / scale, dtype=np.float64), med

    def learn(
        self,
        idx: IndexArray,
        values: FloatArray,
        accept: BoolArray | None = None,
        ts: FloatArray | None = None,
    ) -> None:
        keep = learnable(values, accept)
        if not keep.all():
            idx, values = idx[keep], values[keep]
        pos = self._pos[idx]
        was_full = self._count[idx] >= self.window
        if was_full.any():
            rows = idx[was_full]
            old = self._buf[rows, pos[was_full]]
            if _is_everything(rows, self.n_series):
                # Double-buffered: the workspace's output becomes the sorted array.
                updated = _replace_sorted(self._sorted, old, values[was_full], self._work)
                self._sorted, self._work.out = updated, self._sorted
            else:
                scratch = _Workspace()
                self._sorted[rows] = _replace_sorted(
                    self._sorted[rows], old, values[was_full], scratch
                )
        self._buf[idx, pos] = values
        self._pos[idx] = (pos + 1) % self.window
        self._count[idx] = np.minimum(self._count[idx] + 1, self.window)
        now_full = ~was_full & (self._count[idx] >= self.window)
        if now_full.any():
            rows = idx[now_full]
            self._sorted[rows] = np.sort(self._buf[rows], axis=1)

    def score_run(
        self, series: int, values: FloatArray, ts: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """Score, then learn, each point of a run of one series in order: the raw scores and
        expected values that one `score` and one `learn` call per point would give, in one
        vectorised pass (a long history pushed in one request costs per point what a wide
        batch does)."""
        count, pos = int(self._count[series]), int(self._pos[series])
        row = self._buf[series]
        history = np.roll(row, -pos) if count >= self.window else row[:count].copy()
        keep = learnable(values, None)
        learnt = np.concatenate([history, values[keep]])
        med_by, scale_by = rolling_baselines(learnt, self.window, self.min_points, self.rel_floor)
        before = count + np.cumsum(keep) - keep  # points learnt before each one is scored
        med, scale = med_by[before], scale_by[before]
        raw = np.asarray(np.abs(values - med) / scale, dtype=np.float64)
        last = learnt[-self.window :]
        k = last.shape[0]
        self._buf[series] = np.nan
        self._buf[series, :k] = last
        self._pos[series] = k % self.window
        self._count[series] = k
        if k >= self.window:
            self._sorted[series] = np.sort(last)
        return raw, med


def _is_everything(idx: IndexArray, n: int) -> bool:
    """True when idx is exactly 0 .. n-1 in order, so the buffer can be used without a copy."""
    return idx.shape[0] == n and bool(np.array_equal(idx, np.arange(n)))


def _lower_bound(flat: FloatArray, base: IndexArray, w: int, x: FloatArray) -> IndexArray:
    """Per sorted row (row r starts at flat[base[r]]), the number of elements < x[r].

    A binary search of gathers from the flattened rows: log2(w) reads per row, no scan.
    """
    n = base.shape[0]
    lo = np.zeros(n, dtype=np.int64)
    hi = np.full(n, w, dtype=np.int64)
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) >> 1
        less = flat.take(base + np.minimum(mid, w - 1)) < x
        go_right = active & less
        lo = np.where(go_right, mid + 1, lo)
        hi = np.where(active & ~less, mid, hi)


class _Workspace:
    """Buffers reused from step to step: fresh 40 MB arrays cost more in page faults than use."""

    def __init__(self) -> None:
        self.shape: tuple[int, int] = (0, 0)
        self.out = np.empty((0, 0))
        self.mask_a = np.empty((0, 0), dtype=np.bool_)
        self.mask_b = np.empty((0, 0), dtype=np.bool_)

    def get(self, shape: tuple[int, int]) -> tuple[FloatArray, BoolArray, BoolArray]:
        if shape != self.shape:
            self.shape = shape
            self.out = np.empty(shape)
            self.mask_a = np.empty(shape, dtype=np.bool_)
            self.mask_b = np.empty(shape, dtype=np.bool_)
        return self.out, self.mask_a, self.mask_b


def _replace_sorted(
    rows: FloatArray, old: FloatArray, new: FloatArray, work: _Workspace
) -> FloatArray:
    """Each sorted row with one occurrence of old[r] replaced by new[r], kept sorted.

    Returns the workspace's output buffer (the caller swaps it with its sorted array).
    """
    n, w = rows.shape
    flat = rows.reshape(-1)
    base = np.arange(n, dtype=np.int64) * w
    p = _lower_bound(flat, base, w, old)[:, None]  # where the old value sits
    q = (_lower_bound(flat, base, w, new) - (old < new))[:, None]  # where the new one goes
    j = np.arange(w)[None, :]
    out, lower, upper = work.get((n, w))
    # Between the two places every element moves one step towards the old value's slot.
    np.copyto(out, rows)
    np.greater_equal(j, p, out=lower)
    np.less(j, q, out=upper)
    np.logical_and(lower, upper, out=lower)  # takes its right neighbour
    np.copyto(out[:, :-1], rows[:, 1:], where=lower[:, :-1])
    np.greater(j, q, out=lower)
    np.less_equal(j, p, out=upper)
    np.logical_and(lower, upper, out=lower)  # takes its left neighbour
    np.copyto(out[:, 1:], rows[:, :-1], where=lower[:, 1:])
    out.reshape(-1)[base + q[:, 0]] = new
    return out


def _sorted_median_scale(rows: FloatArray) -> tuple[FloatArray, FloatArray]:
    w = rows.shape[1]
    h = w // 2
    med = rows[:, h] if w % 2 else 0.5 * (rows[:, h - 1] + rows[:, h])
    kth, after = _kth_deviation(rows, med, w // 2 - 1 + w % 2)
    mad = kth if w % 2 else 0.5 * (kth + after)
    scale = _MAD_TO_SIGMA * mad
    flat = scale == 0
    if flat.any():
        # Over half the window equals the median: fall back to the mean absolute deviation.
        scale[flat] = _MEANAD_TO_SIGMA * np.abs(rows[flat] - med[flat, None]).mean(axis=1)
    return med, scale


def _kth_deviation(rows: FloatArray, med: FloatArray, k: int) -> tuple[FloatArray, FloatArray]:
    """Per sorted row, the k-th and (k+1)-th smallest (0-based) of |row - median|.

    The deviations form two ascending runs, below the median (a[i] = med - row[h-1-i]) and
    above it (b[i] = row[h+i] - med); a vectorised binary search finds how many of the k+1
    smallest come from a, reading only a few elements per row.
    """
    n, w = rows.shape
    h = w // 2
    la, lb = h, w - h
    flat = np.ascontiguousarray(rows).reshape(-1)
    base = np.arange(n, dtype=np.int64) * w

    def a(i: IndexArray) -> FloatArray:
        v = med - flat.take(base + np.clip(h - 1 - i, 0, w - 1))
        return np.where(i >= la, np.inf, np.where(i < 0, -np.inf, v))

    def b(i: IndexArray) -> FloatArray:
        v = flat.take(base + np.clip(h + i, 0, w - 1)) - med
        return np.where(i >= lb, np.inf, np.where(i < 0, -np.inf, v))

    lo = np.full(n, max(0, k + 1 - lb), dtype=np.int64)
    hi = np.full(n, min(la, k + 1), dtype=np.int64)
    # Smallest i with a[i] >= b[k - i]: the predicate is monotone in i.
    while True:
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) // 2
        ok = a(mid) >= b(k - mid)
        hi = np.where(active & ok, mid, hi)
        lo = np.where(active & ~ok, mid + 1, lo)
    # The k+1 smallest are a[:lo] and b[:k+1-lo]; the next one is the smaller of what follows.
    return np.maximum(a(lo - 1), b(k - lo)), np.minimum(a(lo), b(k + 1 - lo))


def _nan_median_scale(rows: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The same for windows still filling up (NaN marks empty slots)."""
    med = np.nanmedian(rows, axis=1)
    dev = np.abs(rows - med[:, None])
    scale = _MAD_TO_SIGMA * np.nanmedian(dev, axis=1)
    flat = scale == 0
    if flat.any():
        scale[flat] = _MEANAD_TO_SIGMA * np.nanmean(dev[flat], axis=1)
    return med, scale


def rolling_baselines(
    learnt: FloatArray, window: int, min_points: int, rel_floor: float
) -> tuple[FloatArray, FloatArray]:
    """Median and robust scale after each count 0..n of learnt points (n + 1 entries): what
    the detector's baseline would be after learning them one by one, in one vectorised pass."""
    n = learnt.shape[0]
    med = np.full(n + 1, np.nan)
    scale = np.full(n + 1, np.nan)
    # Row r of the windows holds the `window` points before position r (NaN-padded at first).
    padded = np.concatenate([np.full(window, np.nan), learnt])
    rows = sliding_window_view(padded, window)
    count = np.minimum(np.arange(n + 1), window)
    step = max(1, _CHUNK_ELEMENTS // window)
    for lo in range(0, n + 1, step):
        hi = min(n + 1, lo + step)
        chunk, c = rows[lo:hi], count[lo:hi]
        full = c >= window
        partial = (c >= min_points) & ~full
        if full.any():
            where = np.flatnonzero(full) + lo
            med[where], scale[where] = _sorted_median_scale(np.sort(chunk[full], axis=1))
        if partial.any():
            where = np.flatnonzero(partial) + lo
            med[where], scale[where] = _nan_median_scale(np.array(chunk[partial]))
    warm = np.isfinite(med)
    scale[warm] = np.maximum(np.maximum(scale[warm], rel_floor * np.abs(med[warm])), 1e-9)
    return med, scale
