"""Evidence for root-cause analysis: how far each metric moved from its own normal, and when.

For every series the rows before the fault start are its normal: a median and a robust scale
(the interquartile range, else the scaled MAD, else the standard deviation). From the fault
start on, the series' deviation is |x - median| / scale (the robust scoring of BARO, Pham et
al., FSE 2024). The metric's score is the deviation it held for `PERSIST` rows (the
`PERSIST`-th largest; its peak is kept apart): a one-row blip is not a cause's change. The
first row where the deviation passes `ONSET` dates the change.

The scale has floors, so that a series whose normal says little about its spread cannot
produce an unbounded score: `REL_FLOOR` of the normal level; `RANGE_SHARE` of the normal rows'
range (a series that already spiked while normal is judged by its spikes, not by its quartiles);
for a series that did not move at all while normal, `PINNED_FLOOR` of the largest magnitude it
takes in the window (a counter at 0 that ticks to 1 moved, but not infinitely far). With fewer
than `MIN_NORMAL` rows before the start (a fault caught early in a short window), a series is
not judged, unless the caller asks for short histories (`rca run` and the benchmark do): then
every series with at least one normal value is judged, its scale at least `FEW_REL_FLOOR` of its
level; the same holds when no series has `MIN_NORMAL` normal values.

PERSIST, RANGE_SHARE, PINNED_FLOOR and FEW_REL_FLOOR were chosen on the Nezha Train-Ticket
cases (docs/benchmarks.md, "Root cause"); the other sets' figures were measured after.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Robust deviations above this date a metric's change.
ONSET = 3.0
#: Fewer normal points than this and a series is not judged.
MIN_NORMAL = 5
#: The scale is at least this share of the normal level: a near-constant series (memory in
#: bytes) moving by a fraction of a percent is not evidence.
REL_FLOOR = 0.01
#: With fewer than MIN_NORMAL normal rows, the scale is at least this share of the level.
FEW_REL_FLOOR = 0.1
#: A metric's score is the deviation it held over this many rows after the start.
PERSIST = 2
#: The scale is at least this share of the normal rows' range.
RANGE_SHARE = 0.25
#: A series flat while normal: its scale is at least this share of its largest magnitude.
PINNED_FLOOR = 0.1


@dataclass(frozen=True, slots=True)
class MetricEvidence:
    """One series' move: its score, normal level, peak and when it changed."""

    node: str
    metric: str
    score: float
    baseline: float
    peak: float
    peak_row: int
    change_row: int | None  # first row from the fault start with deviation >= ONSET

    @property
    def direction(self) -> str:
        return "rose" if self.peak >= self.baseline else "fell"

    @property
    def ratio(self) -> float | None:
        """peak / baseline when both are positive (how many times the normal level)."""
        if self.baseline > 0 and self.peak > 0:
            return self.peak / self.baseline
        return None


def robust_scale(normal: FloatArray) -> FloatArray:
    """Per column of `normal` [rows, columns] (NaN ignored): the IQR, else 1.4826 x MAD, else
    the standard deviation; never below REL_FLOOR of the median (nor 1e-9)."""
    q25, q50, q75 = np.nanpercentile(normal, [25, 50, 75], axis=0)
    mad = 1.4826 * np.nanmedian(np.abs(normal - q50), axis=0)
    sd = np.nanstd(normal, axis=0)
    scale = np.where(q75 > q25, q75 - q25, np.where(mad > 0, mad, sd))
    return np.asarray(np.maximum(scale, np.maximum(np.abs(q50) * REL_FLOOR, 1e-9)))


def _scale(normal: FloatArray, window: FloatArray, level: FloatArray, few: bool) -> FloatArray:
    """robust_scale of the normal rows with the floors of the module docstring (`level`: the
    normal median)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanmin(normal, axis=0), np.nanmax(normal, axis=0)
        top = np.nanmax(np.abs(window), axis=0)
    scale = np.maximum(robust_scale(normal), RANGE_SHARE * (high - low))
    scale = np.where(high > low, scale, np.maximum(scale, PINNED_FLOOR * top))
    if few:
        scale = np.maximum(scale, FEW_REL_FLOOR * np.abs(level))
    return np.asarray(scale, dtype=np.float64)


def score_metrics(
    nodes: list[str],
    metrics: list[str],
    values: FloatArray,
    fault_row: int,
    *,
    short_history: bool = False,
) -> list[MetricEvidence]:
    """One evidence per column of `values` [rows, columns] (column k is nodes[k] / metrics[k]),
    best first; columns with fewer than MIN_NORMAL normal values or nothing after the start are
    left out. With `short_history` (`rca run`, the benchmark; the live path keeps refusing), a
    window with fewer normal rows than that, or no column with that many, is judged anyway
    (module docstring)."""
    if not 0 < fault_row < values.shape[0]:
        raise ValueError("the fault start must leave rows before and after it")
    normal, after = values[:fault_row], values[fault_row:]
    counts = np.isfinite(normal).sum(axis=0)
    seen_after = np.isfinite(after).any(axis=0)
    judged = (counts >= MIN_NORMAL) & seen_after
    few = short_history and (fault_row < MIN_NORMAL or not judged.any())
    if few:
        judged = (counts >= 1) & seen_after
    if not judged.any():
        return []
    cols = np.flatnonzero(judged)
    normal, after = normal[:, cols], after[:, cols]
    baseline = np.nanmedian(normal, axis=0)
    scale = _scale(normal, values[:, cols], baseline, few)
    deviation = np.abs(after - baseline) / scale
    deviation = np.where(np.isfinite(deviation), deviation, -1.0)
    held = -np.sort(-deviation, axis=0)[min(PERSIST, deviation.shape[0]) - 1]
    peak = np.argmax(deviation, axis=0)
    crossed = deviation >= ONSET
    first = np.argmax(crossed, axis=0)
    any_crossed = np.asarray(crossed.any(axis=0), dtype=np.bool_)
    pick = np.arange(cols.shape[0])
    out = [
        MetricEvidence(
            node=nodes[c],
            metric=metrics[c],
            score=float(max(held[j], 0.0)),
            baseline=float(baseline[j]),
            peak=float(after[peak[j], j]),
            peak_row=fault_row + int(peak[j]),
            change_row=fault_row + int(first[j]) if any_crossed[j] else None,
        )
        for j, c in zip(pick.tolist(), cols.tolist(), strict=True)
    ]
    out.sort(key=lambda e: -e.score)
    return out


def slo_affinity(nodes: list[str], values: FloatArray, slo: list[int]) -> dict[str, float]:
    """How each node's metrics move with a violated SLO: per node, the largest |Pearson
    correlation| of one of its columns of `values` [rows, columns] with the SLO (the mean of
    columns `slo`), over the rows where both are known (0 for fewer than three, or a constant)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        target = np.nanmean(values[:, slo], axis=1)
    out: dict[str, float] = dict.fromkeys(nodes, 0.0)
    for k, node in enumerate(nodes):
        col = values[:, k]
        ok = np.isfinite(col) & np.isfinite(target)
        if ok.sum() < 3:
            continue
        a, b = col[ok] - col[ok].mean(), target[ok] - target[ok].mean()
        denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
        if denom > 0:
            out[node] = max(out[node], abs(float((a * b).sum()) / denom))
    return out
