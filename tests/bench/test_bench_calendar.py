"""The calendar benchmark counts false alarms by zone, with the calendar ignored and used."""

from __future__ import annotations

from opsgraph.bench.calendar import ZONES, run_calendar_bench


def test_calendar_bench_reports_both_runs() -> None:
    report = run_calendar_bench(resources=12, seed=7, days=1.0)
    for key in ("without_calendar", "with_calendar"):
        run = report[key]
        assert run["steps"] == 1440
        assert set(run["alarms"]) == set(ZONES)
        assert sum(run["by_metric"]["during"].values()) == run["alarms"]["during"]
    # Same estate, same seed: the event steps are the same in both runs.
    assert report["without_calendar"]["event_steps"] == report["with_calendar"]["event_steps"]
    # Seed 7's first day holds a 4-hour promotion: ignored, it alarms; as a feature, hardly.
    assert report["with_calendar"]["event_steps"] == 240
    assert report["without_calendar"]["alarms"]["during"] >= 20
    assert report["with_calendar"]["alarms"]["during"] <= 5
