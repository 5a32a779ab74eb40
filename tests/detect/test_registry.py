"""Detectors are found by entry-point name; unknown names and bad parameters are clear errors."""

from __future__ import annotations

import pytest

from opsgraph.core.errors import ConfigError
from opsgraph.detect import RobustZDetector
from opsgraph.detect.registry import available, create_detector


def test_robust_z_is_registered() -> None:
    assert {"robust_z", "seasonal", "cusum", "spectral_residual"} <= set(available())
    detector = create_detector("robust_z", {"window": 10, "min_points": 5})
    assert isinstance(detector, RobustZDetector) and detector.window == 10
    # Shared defaults reach only the detectors that take them.
    seasonal = create_detector("seasonal", defaults={"window": 10, "period": "week"})
    assert seasonal.name == "seasonal" and getattr(seasonal, "n_slots", 0) == 168


def test_unknown_name_and_bad_parameters() -> None:
    with pytest.raises(ConfigError, match=r"unknown detector 'oracle'.*robust_z"):
        create_detector("oracle")
    with pytest.raises(ConfigError, match="refused its parameters"):
        create_detector("robust_z", {"window": 2})
    with pytest.raises(ConfigError, match="refused its parameters"):
        create_detector("robust_z", {"windw": 20})
