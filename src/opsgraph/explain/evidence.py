"""Evidence for root-cause analysis: how far each metric moved from its own normal, and when.

For every series the rows before the fault start are its normal: a median and a robust scale
(the interquartile range, else the scaled MAD, else the standard deviation). From the fault
start on, the series' deviation is |x - median| / scale; its largest value is the metric's
score (the robust scoring of BARO, Pham et al., FSE 2024), and the first row where the
deviation passes `onset` dates the change.
"""

from __future__ import annotations

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


def score_metrics(
    nodes: list[str],
    metrics: list[str],
    values: FloatArray,
    fault_row: int,
) -> list[MetricEvidence]:
    """One evidence per column of `values` [rows, columns] (column k is nodes[k] / metrics[k]),
    best first; columns with too little normal data or nothing after the start are left out."""
    if not 0 < fault_row < values.shape[0]:
        raise ValueError("the fault start must leave rows before and after it")
    normal, after = values[:fault_row], values[fault_row:]
    judged = (np.isfinite(normal).sum(axis=0) >= MIN_NORMAL) & np.isfinite(after).any(axis=0)
    if not judged.any():
        return []
    cols = np.flatnonzero(judged)
    normal, after = normal[:, cols], after[:, cols]
    baseline = np.nanmedian(normal, axis=0)
    deviation = np.abs(after - baseline) / robust_scale(normal)
    deviation = np.where(np.isfinite(deviation), deviation, -1.0)
    peak = np.argmax(deviation, axis=0)
    crossed = deviation >= ONSET
    first = np.argmax(crossed, axis=0)
    any_crossed = np.asarray(crossed.any(axis=0), dtype=np.bool_)
    pick = np.arange(cols.shape[0])
    out = [
        MetricEvidence(
            node=nodes[c],
            metric=metrics[c],
            score=float(deviation[peak[j], j]),
            baseline=float(baseline[j]),
            peak=float(after[peak[j], j]),
            peak_row=fault_row + int(peak[j]),
            change_row=fault_row + int(first[j]) if any_crossed[j] else None,
        )
        for j, c in zip(pick.tolist(), cols.tolist(), strict=True)
    ]
    out.sort(key=lambda e: -e.score)
    return out
