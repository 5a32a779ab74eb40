"""The decision step: calibrated scores become anomaly episodes with a severity.

An episode opens when a series stays above the alert threshold for `open_after` points in a
row, is updated while it stays there, and closes after a run of quiet points; only alerting
series cost Python work.

After an episode opens, its series rests: no new episode opens on it for `rest_points`
points, or `rest_fraction` of the points the series had before the opening when that is more
(a series known for weeks rests longer than one known for hours). One alert per burst, and
the quiet stretch after it does not pile up alerts while the series settles. A score
`rest_break` above the one that started the rest breaks it (a false alarm must not hide the
outage that follows it). NAB's figures
are measured with it (docs/benchmarks.md): it is part of the product's decision step, not of
a benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

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

    def extend(self, other: Decisions) -> None:
        """Add what a later batch decided."""
        self.opened += other.opened
        self.updated += other.updated
        self.closed += other.closed


class EpisodeTracker:
    """Keeps one open anomaly per series at most, keyed by the dense series index."""

    def __init__(
        self,
        *,
        threshold: float,
        close_after: int,
        detector: str,
        open_after: int = 1,
        rest_points: int = 0,
        rest_fraction: float = 0.0,
        rest_break: float = 1.0,
    ) -> None:
        if open_after < 1 or close_after < 1:
            raise ValueError("open_after and close_after must be at least 1")
        if rest_points < 0 or not 0.0 <= rest_fraction < 1.0:
            raise ValueError("need rest_points >= 0 and 0 <= rest_fraction < 1")
        self.threshold = threshold
        self.close_after = close_after
        self.open_after = open_after
        self.rest_points = rest_points
        self.rest_fraction = rest_fraction
        self.rest_break = rest_break
        self.detector = detector
        self._rest_score = np.zeros(0)  # the score that started each series' rest
        self._seen = np.zeros(0, dtype=np.int64)  # points decided per series
        self._rest_until = np.zeros(0, dtype=np.int64)  # no opening before this point
        self.open: dict[int, Anomaly] = {}
        self._quiet = np.zeros(0, dtype=np.int64)
        self._streak = np.zeros(0, dtype=np.int64)  # consecutive points above the threshold
        self._streak_start = np.zeros(0)  # timestamp of the first of them
        self._threshold = np.zeros(0)  # per series: feedback can raise it
        self._distance = np.zeros(0)  # per series: the last point's severity distance

    def reserve(self, n_series: int) -> None:
        extra = n_series - self._quiet.shape[0]
        if extra > 0:
            self._quiet = np.concatenate([self._quiet, np.zeros(extra, dtype=np.int64)])
            self._streak = np.concatenate([self._streak, np.zeros(extra, dtype=np.int64)])
            self._streak_start = np.concatenate([self._streak_start, np.zeros(extra)])
            self._threshold = np.concatenate([self._threshold, np.full(extra, self.threshold)])
            self._seen = np.concatenate([self._seen, np.zeros(extra, dtype=np.int64)])
            self._rest_until = np.concatenate([self._rest_until, np.zeros(extra, dtype=np.int64)])
            self._rest_score = np.concatenate([self._rest_score, np.zeros(extra)])
            self._distance = np.concatenate([self._distance, np.zeros(extra)])

    def raise_threshold(self, series: int, at_least: float) -> float:
        """Alert on this series only from `at_least` on (after a false positive)."""
        self._threshold[series] = max(self._threshold[series], min(at_least, 0.999))
        return float(self._threshold[series])

    def reset_threshold(self, series: int) -> None:
        self._threshold[series] = self.threshold

    def threshold_of(self, series: int) -> float:
        return float(self._threshold[series])

    def skip_quiet(self, series: int, points: int) -> None:
        """What `decide` does with `points` points below the threshold of a series that has no
        open episode: no streak, and that many more points seen."""
        self._streak[series] = 0
        self._seen[series] += points

    def decide(
        self,
        *,
        ts: FloatArray,
        idx: IndexArray,
        values: FloatArray,
        expected: FloatArray,
        scores: FloatArray,
        keys: list[tuple[str, str]],
        severity: FloatArray | None = None,
    ) -> Decisions:
        """keys[i] is (resource_id, metric) of series index i. `severity`, when given, is
        each point's distance from normal on the score scale (`severity_scores`): the score
        (rarity) decides whether a point is anomalous, and the distance that the series held
        for this point and the one before decides how bad it is."""
        out = Decisions()
        alert = scores >= self._threshold[idx]
        hot = idx[alert]
        self._quiet[hot] = 0
        starting = hot[self._streak[hot] == 0]
        self._streak_start[starting] = ts[alert][self._streak[hot] == 0]
        self._streak[hot] += 1
        self._streak[idx[~alert]] = 0
        self._seen[idx] += 1
        if severity is None:
            codes = severity_codes(scores)
        else:
            # A distance counts once it holds for two points in a row: one spike is not a page.
            distance = np.nan_to_num(severity, nan=0.0)
            codes = severity_scores(scores, np.minimum(distance, self._distance[idx]))
            self._distance[idx] = distance
        for j in np.flatnonzero(alert).tolist():
            series = int(idx[j])
            score = float(scores[j])
            current = self.open.get(series)
            if current is None:
                if self._streak[series] < self.open_after:
                    continue
                seen = int(self._seen[series])
                resting = seen <= self._rest_until[series]
                if resting and score < self._rest_score[series] + self.rest_break:
                    continue
                if self.rest_points or self.rest_fraction:
                    rest = max(self.rest_points, int(self.rest_fraction * (seen - 1)))
                    self._rest_until[series] = seen + rest
                    self._rest_score[series] = score
                resource_id, metric = keys[series]
                anomaly = Anomaly(
                    resource_id=resource_id,
                    metric=metric,
                    detector=self.detector,
                    start_ts=float(self._streak_start[series]),
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
                current.max_score = max(current.max_score, score)
                now = SEVERITY_BY_CODE[int(codes[j])]
                if now.rank > current.severity.rank:
                    current.severity = now
                out.updated.append(current)
        if self.open:
            quiet = np.flatnonzero(~alert)
            quiet = quiet[np.isin(idx[quiet], np.fromiter(self.open, dtype=np.int64))]
            for j in quiet.tolist():
                series = int(idx[j])
                anomaly = self.open[series]
                self._quiet[series] += 1
                if self._quiet[series] >= self.close_after:
                    del self.open[series]
                    anomaly.status = AnomalyStatus.RESOLVED
                    anomaly.end_ts = anomaly.last_ts
                    out.closed.append(anomaly)
                    continue
                # No longer rare, still far: a series whose tail has seen such points before
                # (an earlier outage) may score its second point below the threshold while
                # it holds the same distance from normal. The open episode takes the distance's
                # severity, so the deviation pages although rarity alone opened it.
                now = SEVERITY_BY_CODE[int(codes[j])]
                if now.rank > anomaly.severity.rank:
                    anomaly.severity = now
                    out.updated.append(anomaly)
        return out


def severity_scores(scores: FloatArray, magnitude: FloatArray) -> npt.NDArray[np.int8]:
    """Severity codes when rarity and distance are told apart: rarity alone (the score) makes
    a point at most MEDIUM; its distance from normal (`magnitude`, a calibrated robust z on the
    score scale) makes it HIGH or CRITICAL. A one-in-10^6 wobble of a quiet series is worth a
    look, not a page; a latency ten robust deviations off is worth a page."""
    rare = np.minimum(severity_codes(scores), _MEDIUM)
    return np.maximum(rare, severity_codes(np.nan_to_num(magnitude, nan=0.0)))


_MEDIUM = np.int8(1)


def decide_run(
    tracker: EpisodeTracker,
    *,
    ts: FloatArray,
    idx: IndexArray,
    values: FloatArray,
    expected: FloatArray,
    scores: FloatArray,
    keys: list[tuple[str, str]],
) -> Decisions:
    """`decide` for a time-ordered run of one series' points, with the same result as one call
    per point: a stretch of points below the threshold while the series has no open episode
    only counts them (its streak is 0 and it has seen them), so it is taken in one step; the
    other points go one by one."""
    series = int(idx[0])
    hot = np.flatnonzero(scores >= tracker.threshold_of(series))
    out = Decisions()
    j, m = 0, int(values.shape[0])
    while j < m:
        if series not in tracker.open:
            nxt = hot[np.searchsorted(hot, j)] if hot.size and hot[-1] >= j else m
            if nxt > j:
                tracker.skip_quiet(series, int(nxt - j))
                j = int(nxt)
                continue
        one = slice(j, j + 1)
        decided = tracker.decide(
            ts=ts[one],
            idx=idx[one],
            values=values[one],
            expected=expected[one],
            scores=scores[one],
            keys=keys,
        )
        out.extend(decided)
        j += 1
    return out


def _finite(value: float) -> float:
    return float(value) if np.isfinite(value) else 0.0
