"""Compiled per-series loops for the hot paths of the streaming detectors (the tail
calibrator's are in `tail_kernels.py`).

Vectorised numpy touches every element of a series' state at each step: keeping a 120-point
window sorted moved all 120 values through six masked passes, and refitting a 2,000-point tail
copied and partitioned the whole history. A loop per series touches only what changes (the few
slots between an old and a new value; the handful of values above the tail's quantile), which
numpy cannot express. numba compiles these loops once per machine (`cache=True`); the module is
imported on first use, so commands that never score do not pay numba's import.

Contract of every kernel: `rows` lists distinct series (the detectors' batch contract), state
arrays are updated in place, and results equal numpy's definitions (`tests/detect/test_kernels.py`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from opsgraph.detect.base import MAD_TO_SIGMA, MEANAD_TO_SIGMA


@njit(cache=True, nogil=True)
def _insert_sorted(row, n, x):  # type: ignore[no-untyped-def]
    """Insert x into the ascending row[:n] (row has room for n + 1)."""
    j = n
    while j > 0 and row[j - 1] > x:
        row[j] = row[j - 1]
        j -= 1
    row[j] = x


@njit(cache=True, nogil=True)
def window_learn(  # type: ignore[no-untyped-def]
    buf, sorted_, pos, count, med, scale, rows, values, keep, min_points
):
    """Each series rows[r] takes values[r] (where keep[r]) into its ring `buf` and into the
    same points sorted, then its median and scale are computed for the next score (while the
    row is in cache; NaN below min_points).

    Once the window is full, the oldest point leaves the sorted row and the values between its
    slot and the new one's place move by one."""
    w = buf.shape[1]
    for r in range(rows.shape[0]):
        if not keep[r]:
            continue
        s, x = rows[r], values[r]
        row = sorted_[s]
        p = pos[s]
        if count[s] >= w:
            old = buf[s, p]
            if old == x:  # the same multiset: the sorted row, median and scale stand
                pos[s] = (p + 1) % w
                continue
            # Where the old value sits and where the new one goes: one counting pass, which
            # streams the row (a binary search waits on a cache miss at every probe).
            a, b = 0, 0
            for j in range(w):
                a += row[j] < old
                b += row[j] < x
            if old < x:
                b -= 1  # the old value, below the new one, leaves the row
                for j in range(a, b):
                    row[j] = row[j + 1]
            else:
                for j in range(a, b, -1):
                    row[j] = row[j - 1]
            row[b] = x
        else:
            _insert_sorted(row, count[s], x)  # the sorted prefix grows with the ring
            count[s] += 1
        buf[s, p] = x
        pos[s] = (p + 1) % w
        if count[s] >= min_points:
            med[s], scale[s] = _median_scale(row, count[s])


@njit(cache=True, nogil=True)
def _below(row, m, h, i):  # type: ignore[no-untyped-def]
    """The i-th smallest deviation below the median: m - row[h-1-i] (+-inf off the run)."""
    if i < 0:
        return -np.inf
    return m - row[h - 1 - i] if i < h else np.inf


@njit(cache=True, nogil=True)
def _above(row, m, h, n, i):  # type: ignore[no-untyped-def]
    """The i-th smallest deviation from the median up: row[h+i] - m (+-inf off the run)."""
    if i < 0:
        return -np.inf
    return row[h + i] - m if i < n - h else np.inf


@njit(cache=True, nogil=True)
def _median_scale(row, n):  # type: ignore[no-untyped-def]
    """Median and robust scale (1.4826 MAD, or 1.2533 times the mean absolute deviation when
    over half the points equal the median) of the ascending row[:n]."""
    h = n // 2
    k = h - 1 + n % 2  # the MAD is the k-th smallest deviation (with the next, for even n)
    m = row[h] if n % 2 else 0.5 * (row[h - 1] + row[h])
    # The deviations are two ascending runs, below the median and from it up. The k+1
    # smallest are the first i of one and k+1-i of the other, for the smallest i with
    # below(i) >= above(k - i): a binary search reads a few elements, not the window.
    lo, hi = max(0, k + 1 - (n - h)), min(h, k + 1)
    while lo < hi:
        mid = (lo + hi) >> 1
        if _below(row, m, h, mid) >= _above(row, m, h, n, k - mid):
            hi = mid
        else:
            lo = mid + 1
    kth = max(_below(row, m, h, lo - 1), _above(row, m, h, n, k - lo))
    if n % 2:
        mad = kth
    else:
        mad = 0.5 * (kth + min(_below(row, m, h, lo), _above(row, m, h, n, k + 1 - lo)))
    s = MAD_TO_SIGMA * mad
    if s == 0.0:
        total = 0.0
        for t in range(n):
            total += abs(row[t] - m)
        s = MEANAD_TO_SIGMA * total / n
    return m, s


@njit(cache=True, nogil=True)
def sorted_median_scale(sorted_, rows):  # type: ignore[no-untyped-def]
    """`_median_scale` of each full sorted row sorted_[rows[r]]."""
    med = np.empty(rows.shape[0])
    scale = np.empty(rows.shape[0])
    for r in range(rows.shape[0]):
        med[r], scale[r] = _median_scale(sorted_[rows[r]], sorted_.shape[1])
    return med, scale


@njit(cache=True, nogil=True)
def _lerp(a, b, t):  # type: ignore[no-untyped-def]
    """numpy's linear interpolation (exact at t = 0 and t = 1)."""
    d = b - a
    return b - d * (1.0 - t) if t >= 0.5 else a + d * t


@njit(cache=True, nogil=True)
def _select(a, n, k):  # type: ignore[no-untyped-def]
    """The k-th smallest (0-based) of a[:n], partially reordering a (Wirth's selection)."""
    lo, hi = 0, n - 1
    while lo < hi:
        pivot = a[k]
        i, j = lo, hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while pivot < a[j]:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if j < k:
            lo = i
        if k < i:
            hi = j
    return a[k]


@njit(cache=True, nogil=True)
def _median(a, m):  # type: ignore[no-untyped-def]
    """The median of a[:m] as np.median computes it (a is reordered)."""
    upper = _select(a, m, m // 2)
    if m % 2:
        return upper
    # The largest of the lower half: after selection it lies left of the middle.
    lower = a[0]
    for t in range(1, m // 2):
        lower = max(lower, a[t])
    return 0.5 * (lower + upper)


@njit(cache=True, nogil=True)
def seasonal_score(mean, dev, seen, spread, rows, slots, values, min_seen, rel_floor):  # type: ignore[no-untyped-def]
    """Distance of values[r] from its slot's mean in units of the slot's spread, and the mean
    (NaN until the slot has been seen min_seen times); see SeasonalDetector."""
    n = rows.shape[0]
    raw = np.full(n, np.nan)
    expected = np.full(n, np.nan)
    k = np.float32(MEANAD_TO_SIGMA)
    for r in range(n):
        s, j = rows[r], slots[r]
        if seen[s, j] < min_seen:
            continue
        m = float(mean[s, j])
        scale = max(float(k * dev[s, j]), 0.5 * spread[s])
        scale = max(scale, max(rel_floor * abs(m), 1e-9))
        raw[r] = abs(values[r] - m) / scale
        expected[r] = m
    return raw, expected


@njit(cache=True, nogil=True)
def seasonal_learn(mean, dev, seen, spread, rows, slots, values, keep, alpha):  # type: ignore[no-untyped-def]
    """Exponentially weighted mean and mean absolute deviation of each slot, and the
    series-wide spread, take values[r] where keep[r]."""
    decay = np.float32(1.0 - alpha)
    for r in range(rows.shape[0]):
        if not keep[r]:
            continue
        s, j, x = rows[r], slots[r], values[r]
        m = float(mean[s, j])
        first = seen[s, j] == 0
        deviation = 0.0 if first else abs(x - m)
        mean[s, j] = x if first else m + alpha * (x - m)
        dev[s, j] = 0.0 if first else float(decay * dev[s, j]) + alpha * deviation
        seen[s, j] = min(seen[s, j] + 1, 10_000)
        if not (first and spread[s] == 0.0):
            spread[s] = 0.99 * spread[s] + 0.01 * MEANAD_TO_SIGMA * deviation


@njit(cache=True, nogil=True)
def _cusum_sums(mean, var, pos, neg, s, x, k):  # type: ignore[no-untyped-def]
    m = mean[s]
    sd = max(math.sqrt(var[s]), max(1e-3 * abs(m), 1e-9))
    z = (x - m) / sd
    return max(0.0, pos[s] + z - k), max(0.0, neg[s] - z - k)


@njit(cache=True, nogil=True)
def cusum_score(mean, var, pos, neg, count, rows, values, k, min_points):  # type: ignore[no-untyped-def]
    """The larger of the two sums each point would bring, and the reference (NaN while
    warming up, or for a missing value); see CusumDetector."""
    n = rows.shape[0]
    raw = np.full(n, np.nan)
    expected = np.full(n, np.nan)
    for r in range(n):
        s = rows[r]
        if count[s] < min_points:
            continue
        expected[r] = mean[s]
        if np.isfinite(values[r]):
            up, down = _cusum_sums(mean, var, pos, neg, s, values[r], k)
            raw[r] = max(up, down)
    return raw, expected


@njit(cache=True, nogil=True)
def cusum_learn(  # type: ignore[no-untyped-def]
    mean, var, pos, neg, count, rows, values, keep, k, reset_at, min_points, window, alpha
):
    """The sums take each kept point (from 0 while warming up, and again once they alarm),
    then the reference: a running mean while warming up, exponentially weighted after."""
    for r in range(rows.shape[0]):
        if not keep[r]:
            continue
        s, x = rows[r], values[r]
        c = count[s]
        up, down = _cusum_sums(mean, var, pos, neg, s, x, k)
        if c >= min_points and max(up, down) < reset_at:
            pos[s], neg[s] = up, down
        else:
            pos[s], neg[s] = 0.0, 0.0
        a = 1.0 / (c + 1) if c < window else alpha
        delta = x - mean[s]
        mean[s] = mean[s] + a * delta
        var[s] = (1 - a) * (var[s] + a * delta * delta)
        count[s] = c + 1
