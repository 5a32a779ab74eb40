"""Business calendars as a feature: what an event explains does not alert, the rest still does."""

from __future__ import annotations

import numpy as np
import pytest

from opsgraph.core.models import CalendarEvent, Resource, SampleFrame
from opsgraph.detect import EpisodeTracker, ExponentialCalibrator, RobustZDetector
from opsgraph.detect.calendar import CalendarIndex, explained
from opsgraph.ingest.stream import Ingestor


def _event(name: str, start: float, end: float, mult: float) -> CalendarEvent:
    return CalendarEvent(name=name, start_ts=start, end_ts=end, multiplier=mult, kind="sale")


def test_overlapping_events_multiply_and_end_exclusive() -> None:
    cal = CalendarIndex([_event("b", 150, 300, 3.0), _event("a", 100, 200, 2.0)])
    assert [e.name for e in cal.events] == ["a", "b"]
    got = cal.multiplier(np.array([99.0, 100.0, 160.0, 200.0, 300.0]))
    assert got.tolist() == [1.0, 2.0, 6.0, 3.0, 1.0]
    assert [e.name for e in cal.active(160.0)] == ["a", "b"]


def test_explained_values() -> None:
    values = np.array([150.0, 260.0, 80.0, 120.0, 70.0, 40.0, 33.0])
    expected = np.array([100.0, 100.0, 100.0, np.nan, 100.0, 100.0, 100.0])
    mult = np.array([2.0, 2.0, 2.0, 2.0, 0.5, 0.5, 0.5])
    got = explained(values, expected, mult)
    # within the event's reach: the expectation; beyond it: what is left; against it: as is;
    # no expectation yet: the value without the event. A holiday (0.5) mirrors a sale.
    assert got.tolist() == [100.0, 130.0, 80.0, 60.0, 100.0, 80.0, 66.0]


def _ingestor(
    calendar: list[CalendarEvent], metrics: tuple[str, ...] = ("request_count",)
) -> Ingestor:
    ing = Ingestor(
        store=None,
        detector=RobustZDetector(window=30, min_points=10),
        calibrator=ExponentialCalibrator(),
        tracker=EpisodeTracker(threshold=0.35, close_after=2, detector="robust_z"),
        calendar_metrics=metrics,
    )
    ing.add_resources([Resource(id="lb-1")])
    ing.set_calendar(calendar)
    return ing


def _opened(ing: Ingestor, during: float, peak: float | None = None) -> list[str]:
    """60 normal steps, then 20 steps at `during` times normal (one at `peak` times if given)."""
    rng = np.random.default_rng(1)
    opened = []
    for t in range(80):
        base = 1000.0 + rng.normal(0, 10)
        if t >= 60:
            base *= peak if peak is not None and t == 70 else during
        frame = SampleFrame(t * 60.0, ("lb-1",), ("request_count",), np.array([[base]]))
        opened += [f"{a.metric}@{int(a.start_ts) // 60}" for a in ing.ingest_frame(frame).opened]
    return opened


@pytest.mark.parametrize("mult", [2.0, 0.5])
def test_an_announced_event_does_not_alert_an_unannounced_one_does(mult: float) -> None:
    assert _opened(_ingestor([]), mult) != []
    assert _opened(_ingestor([_event("sale", 60 * 60, 80 * 60, mult)]), mult) == []


def test_a_fault_during_an_event_still_alerts() -> None:
    ing = _ingestor([_event("sale", 60 * 60, 80 * 60, 2.0)])
    assert _opened(ing, 2.0, peak=8.0) == ["request_count@70"]


def test_metrics_that_do_not_follow_traffic_ignore_the_calendar() -> None:
    ing = _ingestor([_event("sale", 60 * 60, 80 * 60, 2.0)], metrics=("cpu",))
    assert _opened(ing, 2.0) != []
