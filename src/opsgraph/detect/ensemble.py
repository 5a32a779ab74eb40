"""A calibrated ensemble: every member's raw score is mapped through its own per-series tail
calibrator, and the ensemble's probability of anomaly is the largest of the members'.

Calibrating before combining puts detectors of different scales on one footing; the max keeps
the earliest and clearest member's view of an onset. The max of k tail probabilities is small k
times as often as any one of them, so each tail-calibrated member's tail probability is
multiplied by k before the max (a Bonferroni correction: with three such members a point
needs a one-in-30,000 score to count as one in 10,000; NAB standard 69.27 -> 70.10,
docs/benchmarks.md). A member that calibrates itself (it has a
`probability(idx, raw)` method, like `new_level`, whose score is an event rather than a
distance) keeps its own probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from opsgraph.detect.base import BoolArray, FloatArray, IndexArray, StreamingDetector
from opsgraph.detect.tail import TailCalibrator


@runtime_checkable
class SelfCalibrated(Protocol):
    """A detector that maps its own raw scores to probabilities of anomaly."""

    def probability(self, idx: IndexArray, raw: FloatArray) -> FloatArray: ...


class _OwnCalibration:
    """The calibrator slot of a self-calibrated member: its own map, nothing to learn."""

    def __init__(self, member: SelfCalibrated) -> None:
        self.member = member

    def reserve(self, n_series: int) -> None:
        pass

    def probability(self, idx: IndexArray, raw: FloatArray) -> FloatArray:
        return self.member.probability(idx, raw)

    def learn(self, idx: IndexArray, raw: FloatArray) -> None:
        pass


class CalibratedEnsemble:
    """Members scored, calibrated per series, combined by max; all learn after scoring."""

    def __init__(
        self,
        members: Sequence[StreamingDetector],
        *,
        history: int = 2000,
        level: float = 0.98,
    ) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = list(members)
        self.calibrators: list[TailCalibrator | _OwnCalibration] = [
            _OwnCalibration(m)
            if isinstance(m, SelfCalibrated)
            else TailCalibrator(history=history, level=level)
            for m in self.members
        ]
        self.name = "+".join(m.name for m in self.members)
        #: Bonferroni factor for the tail-calibrated members' tail probabilities.
        self.correction = float(sum(isinstance(c, TailCalibrator) for c in self.calibrators))

    def reserve(self, n_series: int) -> None:
        for member, calibrator in zip(self.members, self.calibrators, strict=True):
            member.reserve(n_series)
            calibrator.reserve(n_series)

    def score(
        self, idx: IndexArray, values: FloatArray, ts: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray, list[FloatArray]]:
        """Probability of anomaly of each point, the first member's expected value, and each
        member's raw scores (what `learn` needs)."""
        best = np.zeros(idx.shape[0])
        expected = np.full(idx.shape[0], np.nan)
        raws = []
        for k, (member, calibrator) in enumerate(zip(self.members, self.calibrators, strict=True)):
            raw, exp = member.score(idx, values, ts)
            raws.append(raw)
            probability = calibrator.probability(idx, raw)
            if isinstance(calibrator, TailCalibrator) and self.correction > 1:
                probability = np.maximum(1.0 - self.correction * (1.0 - probability), 0.0)
            np.maximum(best, probability, out=best)
            if k == 0:
                expected = exp
        return best, expected, raws

    def learn(
        self,
        idx: IndexArray,
        values: FloatArray,
        raws: list[FloatArray],
        accept: BoolArray | None = None,
        ts: FloatArray | None = None,
    ) -> None:
        """Members take the points, calibrators the raw scores `score` gave for them."""
        for member, calibrator, raw in zip(self.members, self.calibrators, raws, strict=True):
            calibrator.learn(idx, raw if accept is None else np.where(accept, raw, np.nan))
            member.learn(idx, values, accept, ts=ts)

    def step(
        self, idx: IndexArray, values: FloatArray, ts: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """Score, then learn: the probability of anomaly and the first member's expectation."""
        best, expected, raws = self.score(idx, values, ts)
        self.learn(idx, values, raws, ts=ts)
        return best, expected


class RepeatDamper:
    """Keeps a point's full score only when it beats every score of its series in the last
    `rows` points; a repeat of a recent high is scaled by `factor`.

    Alert deduplication on the score itself: a burst yields one high point, not a run of them,
    whatever threshold is later applied.
    """

    def __init__(self, rows: int = 100, factor: float = 0.9) -> None:
        if rows < 1 or not 0.0 <= factor < 1.0:
            raise ValueError("need rows >= 1 and 0 <= factor < 1")
        self.rows = rows
        self.factor = factor
        self._recent = np.zeros((0, rows))
        self._pos = np.zeros(0, dtype=np.int64)

    def reserve(self, n_series: int) -> None:
        grow = n_series - self._recent.shape[0]
        if grow > 0:
            self._recent = np.vstack([self._recent, np.zeros((grow, self.rows))])
            self._pos = np.concatenate([self._pos, np.zeros(grow, dtype=np.int64)])

    def __call__(self, idx: IndexArray, scores: FloatArray) -> FloatArray:
        previous = self._recent[idx].max(axis=1)
        out = np.where(scores > previous, scores, scores * self.factor)
        self._recent[idx, self._pos[idx] % self.rows] = scores
        self._pos[idx] += 1
        return np.asarray(out, dtype=np.float64)
