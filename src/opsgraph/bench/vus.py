"""VUS-PR (Paparrizos et al., VLDB 2022): the volume under range-based precision-recall
surfaces, the grade TSB-AD uses for time-series anomaly scores, and the window it derives from
a series' period.

Point-wise AUC-PR punishes a detector that fires a few rows before or after a labelled
segment, and point-adjusted F1 rewards random scores (about 0.7 on server metrics). VUS-PR
softens each segment's edges over a buffer of `l` rows (labels decay as sqrt(1 - d / l)),
rewards finding each segment (existence), and averages the range-based average precision over
every buffer length from 0 to the window.

Our own vectorised implementation of the definition in TSB-AD (`get_metrics(...)['VUS-PR']`,
`find_length_rank(..., rank=1)`, 250 thresholds), including its conventions: thresholds at 250
evenly spaced ranks of the sorted scores; a segment buffered by half the buffer length on
each side; recall against the mean of the plain and the buffered label mass. Each score agrees
with TSB-AD's to 1e-9 on the cases of tests/bench/test_vus.py (checked against TSB-AD 1.5).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: The window when a series shows no period (TSB-AD's default).
DEFAULT_WINDOW = 125
#: Lags searched for the period, and the first lag considered.
MAX_LAG = 400
FIRST_LAG = 3


def segments(labels: npt.ArrayLike) -> list[tuple[int, int]]:
    """The labelled anomalies as (first, last) row pairs, inclusive."""
    y = np.asarray(labels).astype(np.int8).ravel()
    if y.size == 0:
        return []
    edges = np.diff(np.concatenate([[0], y, [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def period_window(series: npt.ArrayLike) -> int:
    """The window VUS-PR buffers with: the lag of the strongest local peak of the series'
    autocorrelation (lags 3 to 400, first 20,000 rows), or 125 when there is none in range."""
    x = np.asarray(series, dtype=np.float64).ravel()[:20_000]
    n = x.size
    if n < FIRST_LAG + 3:
        return DEFAULT_WINDOW
    centred = x - x.mean()
    denominator = float(np.dot(centred, centred))
    if not np.isfinite(denominator) or denominator <= 0.0:
        return DEFAULT_WINDOW
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(centred, size)
    autocovariance = np.fft.irfft(spectrum * np.conj(spectrum), size)[: min(MAX_LAG, n - 1) + 1]
    acf = autocovariance / denominator
    tail = acf[FIRST_LAG:]
    if tail.size < 3:
        return DEFAULT_WINDOW
    inner = tail[1:-1]
    peaks = np.flatnonzero((inner > tail[:-2]) & (inner > tail[2:])) + 1
    if peaks.size == 0:
        return DEFAULT_WINDOW
    best = int(peaks[np.argmax(tail[peaks])])
    if best < FIRST_LAG or best > 300:
        return DEFAULT_WINDOW
    return best + FIRST_LAG


def _merged(spans: list[tuple[int, int]], pad: int, n: int) -> list[tuple[int, int]]:
    """Segments widened by `pad` rows on each side, overlapping ones merged."""
    out: list[tuple[int, int]] = []
    start = max(spans[0][0] - pad, 0)
    for (_, end), (next_start, _) in pairwise(spans):
        if end + pad < next_start - pad:
            out.append((start, end + pad))
            start = next_start - pad
    out.append((start, min(spans[-1][1] + pad, n - 1)))
    return out


def _buffered(y: FloatArray, spans: list[tuple[int, int]], buffer: int) -> FloatArray:
    """Labels with each segment's edges decaying over `buffer // 2` rows, capped at 1."""
    soft = y.copy()
    n = y.size
    half = buffer // 2
    if half == 0:
        return soft
    for start, end in spans:
        after = np.arange(end + 1, min(end + half + 1, n))
        soft[after] += np.sqrt(1.0 - (after - end) / buffer)
        before = np.arange(max(start - half, 0), start)
        soft[before] += np.sqrt(1.0 - (start - before) / buffer)
    return np.minimum(soft, 1.0)


def vus_pr(
    scores: npt.ArrayLike, labels: npt.ArrayLike, window: int, thresholds: int = 250
) -> float:
    """VUS-PR of anomaly scores against 0/1 labels (higher scores: more anomalous), averaged
    over buffer lengths 0..window. NaN when the labels hold no anomaly."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = (np.asarray(labels).ravel() > 0).astype(np.float64)
    if s.shape != y.shape:
        raise ValueError(f"{s.size} scores for {y.size} labels")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite")
    if window < 0 or thresholds < 1:
        raise ValueError("window must be >= 0 and thresholds >= 1")
    spans = segments(y)
    if not spans:
        return float("nan")
    n = s.size
    positives = float(y.sum())
    order = np.argsort(-s, kind="stable")
    ranked = s[order]
    picks = np.linspace(0, n - 1, thresholds).astype(int)
    cutoffs = ranked[picks]
    # Rows predicted at each threshold: every score >= the cutoff (ties included), which are
    # the first `predicted` rows in descending order.
    predicted = np.searchsorted(-ranked, -cutoffs, side="right")
    on_segment_ranked = np.cumsum(np.concatenate([[0.0], y[order]]))[predicted]
    total = 0.0
    for buffer in range(window + 1):
        soft = _buffered(y, spans, buffer)
        caught = np.cumsum(np.concatenate([[0.0], soft[order]]))[predicted]
        # Buffered label mass that predictions touch, beyond the segments themselves.
        label_mass = positives + (caught - on_segment_ranked)
        recall = np.minimum(caught / ((positives + label_mass) / 2.0), 1.0)
        zones = _merged(spans, buffer // 2, n)
        peak = np.array([s[a : b + 1].max() for a, b in zones])
        found = (peak[None, :] >= cutoffs[:, None]).sum(axis=1) / len(zones)
        tpr = recall * found
        precision = caught / predicted
        total += float(np.dot(np.diff(np.concatenate([[0.0], tpr])), precision))
    return total / (window + 1)
