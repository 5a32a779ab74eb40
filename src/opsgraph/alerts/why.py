"""Why an anomaly is one, in a line: its value against the expected one, the detector and the
setting it crossed, and why it is quiet if it is (a duplicate, silenced, waiting).

"412 ms vs 120 ms expected · robust_z · z 7.2 ≥ 4.7 (alert_threshold 0.35)"; for the ensemble,
whose score is rarity, also what its severity says ("high: ≥ 7.2 robust deviations from
normal"). The API adds it to each listed anomaly (`why`); the console's Alerts page shows it
in its Reason column.
"""

from __future__ import annotations

import math

from opsgraph.core.models import SEVERITY_BOUNDS, Anomaly, Severity
from opsgraph.detect.calibrate import SURPRISE_FULL, ExponentialCalibrator
from opsgraph.detect.settings import DetectSettings

#: Streaming detectors whose raw score is a robust z (the others' is their own statistic).
Z_DETECTORS = frozenset({"robust_z", "seasonal"})
#: Streaming detectors calibrated through the exponential map or per-series tail.
STREAM_DETECTORS = frozenset({"robust_z", "seasonal", "cusum", "spectral_residual", "new_level"})
#: Detectors that report surprise (-log10 of a tail probability) themselves.
SURPRISE_DETECTORS = frozenset({"ensemble"})
_PERCENT = frozenset({"cpu", "memory", "disk"})
#: Scores are inverted just below 1 (the exponential map reaches 1 only at infinity).
_TOP = 0.9999


def format_value(metric: str, value: float) -> str:
    """A metric value with its unit, as the console shows it: 412 ms, 87.5%, 1.2k."""
    if not math.isfinite(value):
        return str(value)
    if metric in _PERCENT or metric == "error_rate":
        pct = value * 100 if abs(value) <= 1 else value
        digits = 2 if metric == "error_rate" and abs(pct) < 10 else 1
        return f"{pct:.{digits}f}%"
    if metric == "latency_ms":
        if abs(value) >= 1000:
            return f"{value / 1000:.2f} s"
        return f"{value:.{1 if abs(value) < 10 else 0}f} ms"
    return _compact(value)


def _compact(value: float) -> str:
    a = abs(value)
    for bound, unit, suffix in ((1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if a >= bound:
            return f"{value / unit:.1f}{suffix}"
    if a >= 100:
        return f"{value:.0f}"
    if a >= 10:
        return f"{value:.1f}"
    if a >= 1 or a == 0:
        return f"{value:.2f}".rstrip("0").rstrip(".") or "0"
    return f"{value:.2g}"


def _range_breach(anomaly: Anomaly, detect: DetectSettings) -> str:
    knobs = detect.per_metric.get(anomaly.metric, detect.knobs)
    if knobs.valid_max is not None and anomaly.value > knobs.valid_max:
        return f"above valid_max {format_value(anomaly.metric, knobs.valid_max)}"
    if knobs.valid_min is not None and anomaly.value < knobs.valid_min:
        return f"below valid_min {format_value(anomaly.metric, knobs.valid_min)}"
    return ""


def _setting(anomaly: Anomaly, detect: DetectSettings) -> str:
    """The score against the live threshold, in the detector's own terms where they are known."""
    threshold = detect.alert_threshold
    setting = f"alert_threshold {threshold:.2f}"
    score = min(anomaly.max_score, _TOP)
    detector = anomaly.detector
    if detector in SURPRISE_DETECTORS or (
        detector in STREAM_DETECTORS and detect.calibration == "tail"
    ):
        # score = surprise / 10: a point one in 10^s for its series.
        s, t = score * SURPRISE_FULL, threshold * SURPRISE_FULL
        return f"1 in 10^{s:.1f} ≥ 1 in 10^{t:.1f} ({setting})"
    if detector in STREAM_DETECTORS and threshold < 1.0:
        cal = ExponentialCalibrator(onset=detect.z_onset, scale=detect.z_scale)
        name = "z" if detector in Z_DETECTORS else "raw score"
        peak = "off the scale" if score >= _TOP else _raw(cal.raw_at(score))
        return f"{name} {peak} ≥ {_raw(cal.raw_at(threshold))} ({setting})"
    return f"score {anomaly.max_score:.2f} ≥ {threshold:.2f} ({setting})"


def _raw(value: float) -> str:
    return f"{value:.1f}" if abs(value) < 100 else f"{value:,.0f}"


def lifecycle_reason(anomaly: Anomaly) -> str:
    """Why the anomaly is quiet or waiting (duplicate, silenced, not grouped), or ""."""
    if anomaly.reason:
        return anomaly.reason
    if anomaly.duplicate_of is not None:
        return f"duplicate of anomaly #{anomaly.duplicate_of}"
    if anomaly.silence_id is not None:
        return f"silenced by silence #{anomaly.silence_id}"
    return ""


def _severity_note(anomaly: Anomaly, detect: DetectSettings) -> str:
    """For a detector that reports surprise, its severity comes from the point's distance to
    normal (a robust z through the exponential map), not from its rarity: say so."""
    if anomaly.detector not in SURPRISE_DETECTORS:
        return ""
    cal = ExponentialCalibrator(onset=detect.z_onset, scale=detect.z_scale)
    bound = {severity: cal.raw_at(b) for b, severity in SEVERITY_BOUNDS}
    severity = anomaly.severity
    if severity in (Severity.HIGH, Severity.CRITICAL):
        return f"{severity.value}: ≥ {_raw(bound[severity])} robust deviations from normal"
    high_score = next(b for b, s in SEVERITY_BOUNDS if s is Severity.HIGH)
    if severity is Severity.MEDIUM and anomaly.max_score >= high_score:
        return f"medium: rare, but under {_raw(bound[Severity.HIGH])} robust deviations from normal"
    return ""


def why(anomaly: Anomaly, detect: DetectSettings) -> str:
    """One line saying why `anomaly` is anomalous under the live detect settings."""
    metric = anomaly.metric
    parts = [
        f"{format_value(metric, anomaly.value)} vs "
        f"{format_value(metric, anomaly.expected)} expected",
        anomaly.detector,
    ]
    breach = _range_breach(anomaly, detect)
    parts.append(breach or _setting(anomaly, detect))
    note = "" if breach else _severity_note(anomaly, detect)
    if note:
        parts.append(note)
    reason = lifecycle_reason(anomaly)
    if reason:
        parts.append(reason)
    return " · ".join(parts)
