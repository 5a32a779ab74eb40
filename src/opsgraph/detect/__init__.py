"""Anomaly detection: detectors give raw scores, calibrators map them to [0, 1], decisions alert.

Three separate steps, so any detector can sit behind the same thresholds and severities.
"""

from opsgraph.detect.base import Calibrator, StreamingDetector
from opsgraph.detect.calibrate import ExponentialCalibrator
from opsgraph.detect.decision import EpisodeTracker
from opsgraph.detect.robust_z import RobustZDetector

__all__ = [
    "Calibrator",
    "EpisodeTracker",
    "ExponentialCalibrator",
    "RobustZDetector",
    "StreamingDetector",
]
