"""`why`: the one line that says why an anomaly is one, under the live detect settings."""

from __future__ import annotations

import pytest

from opsgraph.alerts.why import format_value, why
from opsgraph.core.models import Anomaly, Severity
from opsgraph.detect.settings import DetectSettings

#: The live settings with the threshold these lines are written for (the default is 0.4).
AT_035 = DetectSettings(alert_threshold=0.35)


def _anomaly(**change: object) -> Anomaly:
    base = Anomaly(
        resource_id="api-1",
        metric="latency_ms",
        detector="robust_z",
        start_ts=100.0,
        last_ts=160.0,
        score=0.5,
        max_score=0.65,
        severity=Severity.HIGH,
        value=412.0,
        expected=120.0,
    )
    return base.model_copy(update=change)


def test_value_detector_and_the_setting_crossed() -> None:
    # Exponential map, onset 3 and scale 4: 0.65 is z 7.2, alert_threshold 0.35 is z 4.7.
    text = why(_anomaly(), AT_035)
    assert text == "412 ms vs 120 ms expected · robust_z · z 7.2 ≥ 4.7 (alert_threshold 0.35)"
    stricter = why(_anomaly(), DetectSettings(alert_threshold=0.5, z_onset=2.0))
    assert stricter.endswith("z 6.2 ≥ 4.8 (alert_threshold 0.50)")


def test_tail_calibration_and_the_ensemble_speak_in_surprise() -> None:
    tail = why(_anomaly(max_score=0.62), DetectSettings(calibration="tail", alert_threshold=0.35))
    assert tail.endswith("· robust_z · 1 in 10^6.2 ≥ 1 in 10^3.5 (alert_threshold 0.35)")
    ensemble = why(_anomaly(detector="ensemble", max_score=0.4), AT_035)
    assert "1 in 10^4.0" in ensemble
    # Beyond the knee z grows fast; a score of 1 (the map's limit) still reads as a number.
    assert "· z 2,382 ≥ 4.7 " in why(_anomaly(max_score=0.99), AT_035)
    assert "· z off the scale ≥ 4.7 " in why(_anomaly(max_score=1.0), AT_035)


def test_other_detectors_a_valid_range_and_the_lifecycle_reason() -> None:
    external = why(_anomaly(detector="alertmanager", max_score=0.75), AT_035)
    assert external.endswith("· alertmanager · score 0.75 ≥ 0.35 (alert_threshold 0.35)")
    cpu = why(_anomaly(metric="cpu", value=130.0, expected=40.0), AT_035)
    assert cpu == "130.0% vs 40.0% expected · robust_z · above valid_max 100.0%"
    dup = why(_anomaly(duplicate_of=7), AT_035)
    assert dup.endswith("(alert_threshold 0.35) · duplicate of anomaly #7")
    assert why(_anomaly(silence_id=3), AT_035).endswith("silenced by silence #3")
    waiting = why(_anomaly(reason="waiting for the group", silence_id=3), AT_035)
    assert waiting.endswith("· waiting for the group")


@pytest.mark.parametrize(
    ("metric", "value", "text"),
    [
        ("latency_ms", 1520.0, "1.52 s"),
        ("latency_ms", 4.25, "4.2 ms"),
        ("error_rate", 0.034, "3.40%"),
        ("memory", 0.5, "50.0%"),
        ("request_count", 12_345.0, "12.3k"),
        ("net_in", 0.0, "0"),
        ("net_in", 2.5, "2.5"),
        ("net_in", 0.0123, "0.012"),
    ],
)
def test_values_carry_their_unit(metric: str, value: float, text: str) -> None:
    assert format_value(metric, value) == text


def test_the_ensemble_says_its_severity_is_a_distance_not_a_rarity() -> None:
    far = why(_anomaly(detector="ensemble", max_score=0.45, severity=Severity.HIGH), AT_035)
    assert far.endswith(
        "1 in 10^4.5 ≥ 1 in 10^3.5 (alert_threshold 0.35) · "
        "high: ≥ 7.2 robust deviations from normal"
    )
    rare = why(_anomaly(detector="ensemble", max_score=0.9, severity=Severity.MEDIUM), AT_035)
    assert rare.endswith("medium: rare, but under 7.2 robust deviations from normal")
    plain = why(_anomaly(detector="ensemble", max_score=0.45, severity=Severity.MEDIUM), AT_035)
    assert plain.endswith("(alert_threshold 0.35)")
