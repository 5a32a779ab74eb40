"""Compiled loops of the tail calibrator (`detect/tail.py`): learn, refit and score.

A refit needs the k largest points of a series' history (k = n - floor((n - 1) level), about
21 of 2,000) and its median. Reading the whole history at every refit made refits the
ensemble's largest cost, bound by memory. Each series therefore keeps its largest points
(`kept`, ascending, with the sequence number of each) under one invariant: every point of the
history that is not kept is at most the smallest kept one. A refit drops the kept points that
have left the history, adds the points learned since the last refit, and reads the whole
history again only when fewer than k are left (when the largest points expire with no new
ones to replace them). The median comes from every SAMPLE_EVERY-th point, which `learn` copies
into a small ring, or from the whole history while it is short.

Contract as in `kernels.py`: `rows` lists distinct series, state is updated in place, and the
quantile and mean excess equal numpy's on the history (`tests/detect/test_kernels.py`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from opsgraph.detect.kernels import _lerp, _median
from opsgraph.detect.tail import MEDIAN_SAMPLE, SPARE


@njit(cache=True, nogil=True)
def _push(kept, kept_seq, kept_n, cap, x, sq, complete):  # type: ignore[no-untyped-def]
    """Offer point (x, sequence sq) to a series' ascending kept points; returns their number.

    When `complete` (a pass over the whole history), the first `cap` points are taken as they
    come. Otherwise a point below the smallest kept one is left out while there is room: a
    point of the history that was not kept may lie between them."""
    if kept_n < cap:
        if not complete and kept_n > 0 and x < kept[0]:
            return kept_n
        j = kept_n
        kept_n += 1
        while j > 0 and kept[j - 1] > x:
            kept[j] = kept[j - 1]
            kept_seq[j] = kept_seq[j - 1]
            j -= 1
    elif x > kept[0]:
        j = 0  # the smallest leaves; the new point finds its place above it
        while j + 1 < cap and kept[j + 1] < x:
            kept[j] = kept[j + 1]
            kept_seq[j] = kept_seq[j + 1]
            j += 1
    else:
        return kept_n
    kept[j] = x
    kept_seq[j] = sq
    return kept_n


@njit(cache=True, nogil=True)
def _update_kept(ring, pos, seq, fit_seq, n, kept, kept_seq, kept_n, cap):  # type: ignore[no-untyped-def]
    """The kept points after the points since `fit_seq` came and those before the history's
    start left (or -1 when that cannot be done without reading the whole history)."""
    history = ring.shape[0]
    first = seq - n  # sequence number of the oldest point in the history
    if fit_seq < 0 or kept_n == 0 or seq - fit_seq >= n:
        return -1
    w = 0
    for u in range(kept_n):
        if kept_seq[u] >= first:
            kept[w] = kept[u]
            kept_seq[w] = kept_seq[u]
            w += 1
    if w == 0:
        return -1
    drop = max(0, w - cap)  # a smaller cap (a shorter history): the smallest go
    for u in range(w - drop):
        kept[u] = kept[u + drop]
        kept_seq[u] = kept_seq[u + drop]
    kept_n = w - drop
    for t in range(fit_seq, seq):
        x = ring[(pos - (seq - t)) % history]
        kept_n = _push(kept, kept_seq, kept_n, cap, x, t, False)
    return kept_n


@njit(cache=True, nogil=True)
def _rescan(ring, pos, seq, n, kept, kept_seq, cap):  # type: ignore[no-untyped-def]
    """The `cap` largest points of the whole history, ascending; returns their number."""
    history = ring.shape[0]
    kept_n = 0
    for back in range(n, 0, -1):
        kept_n = _push(kept, kept_seq, kept_n, cap, ring[(pos - back) % history], seq - back, True)
    return kept_n


@njit(cache=True, nogil=True)
def _history_median(ring, pos, seq, n, sample, sample_every, scratch):  # type: ignore[no-untyped-def]
    """The median of the history while it is short, else of its points in the sample ring."""
    history = ring.shape[0]
    m = 0
    if n < 2 * MEDIAN_SAMPLE:
        for back in range(n, 0, -1):
            scratch[m] = ring[(pos - back) % history]
            m += 1
    else:
        size = sample.shape[0]
        t = ((seq - 1) // sample_every) * sample_every  # the newest sampled point
        while t >= seq - n and m < size:
            scratch[m] = sample[(t // sample_every) % size]
            m += 1
            t -= sample_every
    return _median(scratch, m)


@njit(cache=True, nogil=True)
def tail_probability(  # type: ignore[no-untyped-def]
    buf, pos, count, seq, since_fit, fit_seq, q, med, mean_excess, tail,
    kept, kept_seq, kept_n, sample,
    rows, raw, level, min_history, min_exceedances, refit_every, sample_every,
):  # fmt: skip
    """1 - P(X >= raw[r]) under series rows[r]'s tail (0 while it has too little history),
    refitting first each series due (see TailCalibrator)."""
    n_rows = rows.shape[0]
    out = np.zeros(n_rows)
    width = kept.shape[1]
    scratch = np.empty(max(2 * MEDIAN_SAMPLE, sample.shape[1]))
    for r in range(n_rows):
        s = rows[r]
        n = count[s]
        if n < min_history:
            continue
        if since_fit[s] >= refit_every:
            lvl = min(level, 1.0 - min_exceedances / n)
            h = (n - 1) * lvl
            lo = math.floor(h)
            hi = min(lo + 1, n - 1)
            k = n - lo  # the quantile reads the points of rank lo .. n - 1
            cap = min(n, k + SPARE, width)
            ks, kq = kept[s], kept_seq[s]
            got = _update_kept(buf[s], pos[s], seq[s], fit_seq[s], n, ks, kq, kept_n[s], cap)
            if got < k:
                got = _rescan(buf[s], pos[s], seq[s], n, ks, kq, cap)
            kept_n[s] = got
            base = got - k  # ks[base] has rank lo
            qs = _lerp(ks[base], ks[base + hi - lo], h - lo)
            over = 0
            total = 0.0
            for u in range(base, got):
                if ks[u] > qs:
                    over += 1
                    total += ks[u]
            q[s] = qs
            mean_excess[s] = (total - over * qs) / over if over > 0 else np.nan
            med[s] = _history_median(buf[s], pos[s], seq[s], n, sample[s], sample_every, scratch)
            tail[s] = 1.0 - lvl
            since_fit[s] = 0
            fit_seq[s] = seq[s]
        x = raw[r]
        if not np.isfinite(x):
            continue
        qs, ms = q[s], med[s]
        if x > qs:
            me = mean_excess[s]
            if np.isnan(me):
                p_exceed = 1.0 / (n + 1.0)  # above a flat tail: as rare as a first ever
            else:
                p_exceed = tail[s] * math.exp(min((qs - x) / max(me, 1e-12), 0.0))
        elif x <= ms:
            p_exceed = 1.0
        else:
            # Between the median and the quantile: 0.5 to the tail's share, on a log scale.
            share = (x - ms) / (qs - ms) if qs > ms else 1.0
            share = min(max(share, 0.0), 1.0)
            p_exceed = 0.5 * (tail[s] / 0.5) ** share
        out[r] = 1.0 - p_exceed
    return out


@njit(cache=True, nogil=True)
def tail_learn(  # type: ignore[no-untyped-def]
    buf, pos, count, seq, since_fit, q, mean_excess, tail, sample,
    rows, raw, cap_log10, min_history, sample_every,
):  # fmt: skip
    """Append each finite raw[r] to series rows[r]'s ring (and every sample_every-th to its
    sample ring), capped at one in 10^cap_log10 under the series' current fit (no cap when
    cap_log10 is NaN or before the first fit)."""
    history = buf.shape[1]
    size = sample.shape[1]
    for r in range(rows.shape[0]):
        x = raw[r]
        if not np.isfinite(x):
            continue
        s = rows[r]
        if not np.isnan(cap_log10) and count[s] >= min_history:
            cap = q[s] + mean_excess[s] * (math.log(tail[s]) + cap_log10 * math.log(10.0))
            if np.isfinite(cap) and x > cap:
                x = cap
        p = pos[s]
        buf[s, p] = x
        pos[s] = (p + 1) % history
        count[s] = min(count[s] + 1, history)
        t = seq[s]
        if t % sample_every == 0:
            sample[s, (t // sample_every) % size] = x
        seq[s] = t + 1
        since_fit[s] += 1
