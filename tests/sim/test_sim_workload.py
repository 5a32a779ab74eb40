"""Workload: daily and weekly seasonality and the business calendar."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from opsgraph.sim import Calendar, CalendarEvent
from opsgraph.sim.workload import DAY_S, Workload, daily_profile, weekly_profile

MONDAY = 1_700_438_400.0  # 2023-11-20 00:00 UTC


def test_daily_profile_peaks_in_the_afternoon() -> None:
    hours = np.arange(24.0)
    profile = daily_profile(hours)
    assert int(np.argmax(profile)) == 15
    assert int(np.argmin(profile)) == 3
    assert profile[15] > 2.5 * profile[3]
    assert abs(profile.mean() - 1.0) < 1e-9


def test_weekends_are_quieter() -> None:
    days = MONDAY + DAY_S * np.arange(7, dtype=np.float64) + 12 * 3600
    profile = weekly_profile(days)
    assert profile[5] < profile[:5].min() and profile[6] < profile[:5].min()


def test_calendar_generation_is_deterministic_and_has_both_kinds() -> None:
    a = Calendar.generate(seed=5, start_ts=MONDAY, days=90)
    b = Calendar.generate(seed=5, start_ts=MONDAY, days=90)
    assert a.events == b.events
    assert a.events != Calendar.generate(seed=6, start_ts=MONDAY, days=90).events
    kinds = [e.kind for e in a.events]
    assert kinds.count("promotion") >= 12 and kinds.count("sale") >= 3
    starts = [e.start_ts for e in a.events]
    assert starts == sorted(starts)


def test_active_and_multiplier() -> None:
    cal = Calendar()
    sale = cal.add(
        CalendarEvent(name="big-sale", start_ts=100.0, end_ts=200.0, multiplier=2.0, kind="sale")
    )
    cal.add(CalendarEvent(name="promo", start_ts=150.0, end_ts=300.0, multiplier=1.5))
    assert cal.active(50.0) == []
    assert cal.active(120.0) == [sale]
    assert [e.name for e in cal.active(160.0)] == ["big-sale", "promo"]
    assert cal.multiplier(160.0) == pytest.approx(3.0)
    assert cal.active(200.0)[0].name == "promo"  # end is exclusive
    assert cal.multiplier(300.0) == 1.0


def test_event_validation() -> None:
    with pytest.raises(ValidationError):
        CalendarEvent(name="x", start_ts=10.0, end_ts=5.0, multiplier=2.0)
    with pytest.raises(ValidationError):
        CalendarEvent(name="x", start_ts=0.0, end_ts=5.0, multiplier=-1.0)
    with pytest.raises(ValidationError):
        CalendarEvent.model_validate(
            {"name": "x", "start_ts": 0.0, "end_ts": 5.0, "multiplier": 2.0, "kind": "outage"}
        )


def test_workload_follows_calendar_and_sensitivity() -> None:
    cal = Calendar(
        [
            CalendarEvent(
                name="s", start_ts=MONDAY, end_ts=MONDAY + DAY_S, multiplier=2.0, kind="sale"
            )
        ]
    )
    w = Workload(
        base_rps=np.array([100.0, 100.0]),
        utc_offset_h=np.zeros(2),
        seasonality=np.ones(2),
        calendar_sensitivity=np.array([1.0, 0.0]),
        calendar=cal,
    )
    during = w.expected(MONDAY + 3600)
    after = w.expected(MONDAY + 3600 + 7 * DAY_S)
    assert during[0] == pytest.approx(2 * after[0])
    assert during[1] == pytest.approx(after[1])


def test_weekly_profile_holds_at_noon_and_glides_through_midnight() -> None:
    noons = MONDAY + DAY_S * np.arange(7, dtype=np.float64) + 12 * 3600
    assert weekly_profile(noons) == pytest.approx([1.0, 1.02, 1.03, 1.02, 0.97, 0.74, 0.68])
    # Sunday to Monday: no jump at midnight, at most a couple of percent per hour
    ts = MONDAY - DAY_S / 2 + 60.0 * np.arange(24 * 60)
    steps = np.abs(np.diff(weekly_profile(ts)))
    assert steps.max() < 0.32 * np.pi / 2 / (24 * 60) * 1.01
    assert weekly_profile(np.array([MONDAY]))[0] == pytest.approx((0.68 + 1.0) / 2)
