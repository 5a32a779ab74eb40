"""Calibrators: raw detector scores onto one [0, 1] scale shared by every detector.

The live default is the exponential map, made for z-like scores: zero below an onset, then
saturating towards one (`detect.calibration: exponential`). Per series instead, each series'
own tail of raw scores (`TailMap`, `detect.calibration: tail`) or the detector's own
calibration (`SurpriseMap`, the ensemble's) is reported as surprise / 10, so a score says how
rare a point is for its series and does not saturate short of one in 10^10.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from opsgraph.detect.base import Calibrator, FloatArray, IndexArray
from opsgraph.detect.tail import TailCalibrator


@dataclass(frozen=True, slots=True)
class ExponentialCalibrator:
    """score = 1 - exp(-(raw - onset) / scale) above the onset, 0 below; NaN stays 0; and
    beyond the knee (CRITICAL's bound, 0.85) 1 - 0.15 * (raw_knee / raw) ** 0.5, so a score
    keeps saying how far beyond normal a point is instead of saturating at 1.00.

    With onset 3 and scale 4 a robust z of 4.7 is MEDIUM (0.35), 7.2 HIGH (0.65) and
    10.6 CRITICAL (0.85); then z 20 scores 0.89, 100 0.95, 1,000 0.985.
    """

    onset: float = 3.0
    scale: float = 4.0
    knee: float = 0.85
    tail_power: float = 0.5

    def raw_at(self, score: float) -> float:
        """The raw score at which the map reaches `score` (in [0, 1))."""
        if not 0.0 <= score < 1.0:
            raise ValueError("a score to invert must be in [0, 1)")
        if score <= self.knee:
            return self.onset - self.scale * float(np.log1p(-score))
        knee_raw = self.raw_at(self.knee)
        return float(knee_raw * ((1.0 - self.knee) / (1.0 - score)) ** (1.0 / self.tail_power))

    def __call__(self, raw: FloatArray) -> FloatArray:
        raw = np.nan_to_num(np.asarray(raw, dtype=np.float64), nan=0.0)
        out = -np.expm1(-np.maximum(raw - self.onset, 0.0) / self.scale)
        knee_raw = self.raw_at(self.knee)
        beyond = raw > knee_raw
        if beyond.any():
            ratio = knee_raw / raw[beyond]
            out[beyond] = 1.0 - (1.0 - self.knee) * ratio**self.tail_power
        return np.asarray(out, dtype=np.float64)


#: Surprise (-log10 of a point's tail probability) at which the score reaches 1: one in 10^10.
SURPRISE_FULL = 10.0
#: Tail probabilities below this are reported as this.
FLOOR = 1e-12


def surprise_of(tail_probability: FloatArray) -> FloatArray:
    """-log10 of a tail probability, rounded to 1e-9 so that 1e-4 is exactly 4."""
    s = -np.log10(np.maximum(np.nan_to_num(tail_probability, nan=1.0), FLOOR))
    return np.asarray(np.round(s, 9), dtype=np.float64)


def surprise_score(surprise: FloatArray) -> FloatArray:
    """The live score of a surprise: surprise / 10, clipped to [0, 1]. A score of 0.4 is one
    point in 10^4 for its series, 0.6 one in 10^6, 1.0 one in 10^10 or rarer."""
    s = np.nan_to_num(surprise, nan=0.0) / SURPRISE_FULL
    return np.asarray(np.clip(s, 0.0, 1.0) + 0.0, dtype=np.float64)  # + 0.0: no -0.0


class SeriesCalibrator(Protocol):
    """A calibrator that may learn each series' scores: the live path's calibration step."""

    def reserve(self, n_series: int) -> None: ...

    def __call__(self, idx: IndexArray, raw: FloatArray) -> FloatArray: ...

    def learn(self, idx: IndexArray, raw: FloatArray) -> None: ...


class FixedMap:
    """A stateless calibrator (such as ExponentialCalibrator) in the live calibration step."""

    def __init__(self, calibrator: Calibrator) -> None:
        self.calibrator = calibrator

    def reserve(self, n_series: int) -> None:
        pass

    def __call__(self, idx: IndexArray, raw: FloatArray) -> FloatArray:
        return self.calibrator(raw)

    def learn(self, idx: IndexArray, raw: FloatArray) -> None:
        pass


class SurpriseMap(FixedMap):
    """For detectors that calibrate themselves and report surprise (the ensemble)."""

    def __init__(self) -> None:
        super().__init__(surprise_score)


class TailMap:
    """Per-series tail calibration of any detector's raw score (`detect/tail.py`), reported as
    a surprise score: the same scale as the ensemble's, whatever the detector."""

    def __init__(self, history: int = 2000, level: float = 0.99) -> None:
        self.tail = TailCalibrator(history=history, level=level)

    def reserve(self, n_series: int) -> None:
        self.tail.reserve(n_series)

    def __call__(self, idx: IndexArray, raw: FloatArray) -> FloatArray:
        p = self.tail.probability(idx, raw)
        return surprise_score(surprise_of(1.0 - p))

    def learn(self, idx: IndexArray, raw: FloatArray) -> None:
        self.tail.learn(idx, raw)


def as_series_calibrator(calibrator: Calibrator | SeriesCalibrator) -> SeriesCalibrator:
    """A stateless calibrator wrapped for the live path; a series calibrator as it is."""
    if isinstance(calibrator, FixedMap | TailMap):
        return calibrator
    return FixedMap(calibrator)  # type: ignore[arg-type]
