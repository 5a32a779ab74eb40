"""Calibrators: raw detector scores onto one [0, 1] scale shared by every detector.

The exponential map suits z-like scores: zero below an onset, then saturating towards one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from opsgraph.detect.base import FloatArray


@dataclass(frozen=True, slots=True)
class ExponentialCalibrator:
    """score = 1 - exp(-(raw - onset) / scale) above the onset, 0 below; NaN stays 0.

    With onset 3 and scale 4 a robust z of 4.7 is MEDIUM (0.35), 7.2 HIGH (0.65) and
    10.6 CRITICAL (0.85).
    """

    onset: float = 3.0
    scale: float = 4.0

    def __call__(self, raw: FloatArray) -> FloatArray:
        excess = np.nan_to_num(raw, nan=0.0) - self.onset
        return np.asarray(-np.expm1(-np.maximum(excess, 0.0) / self.scale), dtype=np.float64)
