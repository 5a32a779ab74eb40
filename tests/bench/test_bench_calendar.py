"""The calendar benchmark counts false alarms by zone, with the calendar ignored and used."""

from __future__ import annotations

from typing import Any

from opsgraph.bench.calendar import ZONES, run_calendar_bench
from opsgraph.detect.settings import DetectSettings


def test_calendar_bench_reports_both_runs() -> None:
    report = run_calendar_bench(resources=12, seed=7, days=1.0)
    for key in ("without_calendar", "with_calendar"):
        run = report[key]
        assert run["steps"] == 1440
        assert set(run["alarms"]) == set(ZONES)
        assert sum(run["by_metric"]["during"].values()) == run["alarms"]["during"]
    # Same estate, same seed: the event steps are the same in both runs.
    assert report["without_calendar"]["event_steps"] == report["with_calendar"]["event_steps"]
    # Seed 7's first day holds a 4-hour promotion: ignored, the metrics that follow traffic
    # alarm; as a feature, a fraction of that (what is left is the first day's noise, which
    # the metrics that do not follow traffic show alike).
    assert report["with_calendar"]["event_steps"] == 240
    traffic = DetectSettings().calendar_metrics

    def during(run: dict[str, Any]) -> int:
        return sum(run["by_metric"]["during"].get(m, 0) for m in traffic)

    assert during(report["without_calendar"]) >= 8
    assert during(report["with_calendar"]) <= during(report["without_calendar"]) / 3
