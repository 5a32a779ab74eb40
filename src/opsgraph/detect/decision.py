"""The decision step: calibrated scores become anomaly episodes with a severity.

An episode opens when a series crosses the alert threshold, is updated while it stays above
it, and closes after a run of quiet points; only alerting series cost Python work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from opsgraph.core.models import (
    SEVERITY_BY_CODE,
    Anomaly,
    AnomalyStatus,
    severity_codes,
)
from opsgraph.detect.base import FloatArray, IndexArray


@dataclass(slots=True)
class Decisions:
    """What one batch decided: anomalies opened, updated and closed."""

    opened: list[Anomaly] = field(default_factory=list)
    updated: list[Anomaly] = field(default_factory=list)
    closed: list[Anomaly] = field(default_factory=list)


class EpisodeTracker:
    """Keeps one open anomaly per series at most, keyed by the dense series index."""

    def __init__(self, *, threshold: float, close_after: int, detector: str) -> None:
        self.threshold = threshold
        self.close_after = close_after
        self.detector = detector
        self.open: dict[int, Anomaly] = {}
        self._quiet = np.zeros(0, dtype=np.int64)

    def reserve(self, n_series: int) -> None:
        if n_series > self._quiet.shape[0]:
            extra = n_series - self._quiet.shape[0]
            self._quiet = np.concatenate([self._quiet, np.zeros(extra, dtype=np.int64)])

    def decide(
        self,
        *,
        ts: FloatArray,
        idx: IndexArray,
        values: FloatArray,
        expected: FloatArray,
        scores: FloatArray,
        keys: list[tuple[str, str]],
    ) -> Decisions:
        """keys[i] is (resource_id, metric) of series index i."""
        out = Decisions()
        alert = scores >= self.threshold
        self._quiet[idx[alert]] = 0
        codes = severity_codes(scores)
        for j in np.flatnonzero(alert).tolist():
            series = int(idx[j])
            score = float(scores[j])
            current = self.open.get(series)
            if current is None:
                resource_id, metric = keys[series]
                anomaly = Anomaly(
                    resource_id=resource_id,
                    metric=metric,
                    detector=self.detector,
                    start_ts=float(ts[j]),
                    last_ts=float(ts[j]),
                    score=score,
                    max_score=score,
                    severity=SEVERITY_BY_CODE[int(codes[j])],
                    value=float(values[j]),
                    expected=_finite(expected[j]),
                )
                self.open[series] = anomaly
                out.opened.append(anomaly)
            else:
                current.last_ts = float(ts[j])
                current.score = score
                current.value = float(values[j])
                current.expected = _finite(expected[j])
                if score > current.max_score:
                    current.max_score = score
                    current.severity = SEVERITY_BY_CODE[int(codes[j])]
                out.updated.append(current)
        if self.open:
            quiet_idx = idx[~alert]
            open_mask = np.isin(quiet_idx, np.fromiter(self.open, dtype=np.int64))
            for series in quiet_idx[open_mask].tolist():
                self._quiet[series] += 1
                if self._quiet[series] >= self.close_after:
                    anomaly = self.open.pop(series)
                    anomaly.status = AnomalyStatus.RESOLVED
                    anomaly.end_ts = anomaly.last_ts
                    out.closed.append(anomaly)
        return out


def _finite(value: float) -> float:
    return float(value) if np.isfinite(value) else 0.0
