"""NAB's scoring rules, implemented from Lavin & Ahmad (2015) and the benchmark's documentation.

Each detection is weighed by a scaled sigmoid of its place relative to the label windows: early
in a window earns up to the TP weight, after a window an FP costs less the closer it is, and a
window never detected costs the FN weight. The first 15 % of each file (at most 750 rows) is
probationary and not scored. One threshold per profile is chosen for the whole corpus, and the
total is normalised so the null detector scores 0 and the perfect detector 100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from opsgraph.bench.nab.corpus import CostMatrix, DataFile

PROBATION_FRACTION = 0.15
PROBATION_CAP = 0.15 * 5000


def scaled_sigmoid(position: float) -> float:
    """+0.987 at a window's left edge (-1), 0 at its right edge (0), towards -1 after it."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


MAX_TP = scaled_sigmoid(-1.0)


def probation_length(n_rows: int) -> float:
    return min(math.floor(PROBATION_FRACTION * n_rows), PROBATION_CAP)


@dataclass(slots=True)
class RowWeights:
    """Per scorable row: its window (-1 outside) and its unweighted sweep value."""

    window: npt.NDArray[np.int64]
    value: npt.NDArray[np.float64]
    scorable_windows: set[int] = field(default_factory=set)


def row_weights(file: DataFile) -> RowWeights:
    """The sweep value of a detection at each row, before the profile's weights."""
    n = len(file.values)
    window = np.full(n, -1, dtype=np.int64)
    value = np.empty(n)
    prev_right: int | None = None
    prev_width = 0.0
    spans = iter(enumerate(file.windows))
    current = next(spans, None)
    i = 0
    while i < n:
        if current is not None and i == current[1][0]:
            w, (left, right) = current
            width = float(right - left + 1)
            for j in range(left, right + 1):
                window[j] = w
                value[j] = scaled_sigmoid(-(right - j + 1) / width) / MAX_TP
            prev_right, prev_width = right, width
            current = next(spans, None)
            i = right + 1
            continue
        if prev_right is None:
            value[i] = -1.0
        else:
            past = abs(prev_right - i) / (prev_width - 1) if prev_width > 1 else 3.0
            value[i] = scaled_sigmoid(past)
        i += 1
    keep = np.arange(n) >= probation_length(n)
    scorable = {int(w) for w in np.unique(window[keep]) if w >= 0}
    return RowWeights(window=np.where(keep, window, -2), value=value, scorable_windows=scorable)


def file_score(
    weights: RowWeights, scores: npt.NDArray[np.float64], threshold: float, cost: CostMatrix
) -> tuple[float, dict[str, int]]:
    """Raw score of one file at a threshold, with TP / FP / FN counts (rows with score >= t)."""
    hit = (scores >= threshold) & (weights.window != -2)
    fp_rows = hit & (weights.window == -1)
    total = float(cost.fp * weights.value[fp_rows].sum())
    tp = 0
    for w in weights.scorable_windows:
        in_window = hit & (weights.window == w)
        if in_window.any():
            total += cost.tp * float(weights.value[in_window].max())
            tp += 1
        else:
            total -= cost.fn
    fn = len(weights.scorable_windows) - tp
    return total, {"tp": tp, "fp": int(fp_rows.sum()), "fn": fn}


def corpus_curve(
    weights: list[RowWeights], scores: list[npt.NDArray[np.float64]], cost: CostMatrix
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Total raw score of the corpus at every candidate threshold (each distinct score value).

    Computed in one pass over all scorable rows sorted by score, highest first, as the
    threshold falls: an FP row adds its weight, a window counts its best detection so far.
    """
    parts = []
    for f, (w, s) in enumerate(zip(weights, scores, strict=True)):
        keep = w.window != -2
        parts.append((np.full(int(keep.sum()), f), w.window[keep], w.value[keep], s[keep]))
    file_id = np.concatenate([p[0] for p in parts])
    window = np.concatenate([p[1] for p in parts])
    value = np.concatenate([p[2] for p in parts])
    score = np.concatenate([p[3] for p in parts])
    order = np.argsort(-score, kind="stable")
    file_id, window, value, score = file_id[order], window[order], value[order], score[order]
    n_windows = sum(len(w.scorable_windows) for w in weights)
    total = -cost.fn * n_windows
    best: dict[tuple[int, int], float] = {}
    thresholds: list[float] = []
    totals: list[float] = []
    for i in range(len(score)):
        if window[i] < 0:
            total += cost.fp * value[i]
        else:
            key = (int(file_id[i]), int(window[i]))
            old = best.get(key)
            if old is None:
                total += cost.fn + cost.tp * value[i]
                best[key] = value[i]
            elif value[i] > old:
                total += cost.tp * (value[i] - old)
                best[key] = value[i]
        if i + 1 == len(score) or score[i + 1] != score[i]:
            thresholds.append(float(score[i]))
            totals.append(total)
    return np.array(thresholds), np.array(totals)


def best_threshold(
    weights: list[RowWeights], scores: list[npt.NDArray[np.float64]], cost: CostMatrix
) -> tuple[float, float]:
    """The threshold with the highest total over the corpus (above every score: detect none)."""
    thresholds, totals = corpus_curve(weights, scores, cost)
    none = -cost.fn * sum(len(w.scorable_windows) for w in weights)
    if len(totals) == 0 or totals.max() <= none:
        return float("inf"), none
    k = int(np.argmax(totals))
    return float(thresholds[k]), float(totals[k])


def normalise(raw: float, null: float, perfect: float) -> float:
    return 100.0 * (raw - null) / (perfect - null)


def perfect_total(weights: list[RowWeights], cost: CostMatrix) -> float:
    return cost.tp * sum(len(w.scorable_windows) for w in weights)


def null_total(weights: list[RowWeights], cost: CostMatrix) -> float:
    return -cost.fn * sum(len(w.scorable_windows) for w in weights)
