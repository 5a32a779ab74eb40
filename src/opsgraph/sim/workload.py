"""External traffic of the simulated cloud: daily and weekly seasonality, business calendar, noise.

Entry points (load balancers, batch jobs) receive it; the engine pushes it down the graph.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import CalendarEvent

FloatArray = npt.NDArray[np.float64]

DAY_S = 86_400.0
WEEK_S = 7 * DAY_S

#: Local time of each simulated region, so traffic peaks in each region's afternoon.
REGION_UTC_OFFSET_H: dict[str, float] = {
    "us-east-1": -5.0,
    "us-west-2": -8.0,
    "eu-west-1": 0.0,
    "eu-central-1": 1.0,
    "ap-southeast-1": 8.0,
}

#: Traffic multiplier per weekday, Monday first: weekends are quieter.
WEEKLY_PROFILE: tuple[float, ...] = (1.0, 1.02, 1.03, 1.02, 0.97, 0.74, 0.68)

PEAK_HOUR = 15.0


def daily_profile(hour: FloatArray) -> FloatArray:
    """Traffic multiplier by local hour: 1.35 at 15:00, 0.45 at 03:00, mean 1."""
    phase = 2.0 * math.pi * (hour - PEAK_HOUR) / 24.0
    # the second harmonic flattens the morning and evening shoulders like real web traffic
    return np.asarray(1.0 + 0.45 * np.cos(phase) - 0.1 * np.cos(2.0 * phase), dtype=np.float64)


def weekly_profile(local_ts: FloatArray) -> FloatArray:
    """Traffic multiplier by local weekday (1970-01-01 was a Thursday).

    Each day's value holds at its local noon; between two noons it moves along a half cosine,
    so Sunday night glides into Monday instead of jumping by half at midnight, which no real
    traffic does (a step there raised estate-wide false alarms in `bench sim-detect`)."""
    day = np.asarray(local_ts, dtype=np.float64) / DAY_S - 0.5  # whole at each local noon
    before = np.floor(day).astype(np.int64)
    frac = day - before
    profile = np.array(WEEKLY_PROFILE)
    a = profile[(before + 3) % 7]
    b = profile[(before + 4) % 7]
    w = 0.5 - 0.5 * np.cos(np.pi * frac)
    return np.asarray(a + (b - a) * w, dtype=np.float64)


class Calendar:
    """Business events, kept sorted by start; overlapping events multiply."""

    def __init__(self, events: Iterable[CalendarEvent] = ()) -> None:
        self._events: list[CalendarEvent] = []
        self._starts: list[float] = []
        for e in events:
            self.add(e)

    @property
    def events(self) -> list[CalendarEvent]:
        return list(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def add(self, event: CalendarEvent) -> CalendarEvent:
        if not isinstance(event, CalendarEvent):
            raise InvalidInputError("event", "must be a CalendarEvent")
        at = bisect.bisect_right(self._starts, event.start_ts)
        self._starts.insert(at, event.start_ts)
        self._events.insert(at, event)
        return event

    def active(self, ts: float) -> list[CalendarEvent]:
        """Events in force at `ts`."""
        upto = bisect.bisect_right(self._starts, ts)
        return [e for e in self._events[:upto] if e.end_ts > ts]

    def multiplier(self, ts: float) -> float:
        m = 1.0
        for e in self.active(ts):
            m *= e.multiplier
        return m

    @classmethod
    def generate(cls, seed: int, start_ts: float, days: int = 365) -> Calendar:
        """A weekly evening promotion and a monthly one-to-two-day sale, drawn from the seed."""
        if days < 1:
            raise InvalidInputError("days", "must be at least 1")
        rng = np.random.default_rng([seed, 0xCA1E])
        day0 = math.floor(start_ts / DAY_S) * DAY_S
        end = start_ts + days * DAY_S
        events: list[CalendarEvent] = []
        for week in range(days // 7 + 1):
            start = day0 + week * WEEK_S + int(rng.integers(0, 7)) * DAY_S + 17 * 3600.0
            mult = round(float(rng.uniform(1.2, 1.5)), 3)
            if start < end and start + 4 * 3600.0 > start_ts:
                events.append(
                    CalendarEvent(
                        name=f"promo-week-{week + 1}",
                        start_ts=start,
                        end_ts=start + 4 * 3600.0,
                        multiplier=mult,
                        kind="promotion",
                    )
                )
        for month in range(days // 30 + 1):
            start = day0 + month * 30 * DAY_S + int(rng.integers(3, 27)) * DAY_S
            length = DAY_S * int(rng.integers(1, 3))
            mult = round(float(rng.uniform(1.5, 2.0)), 3)
            if start < end:
                events.append(
                    CalendarEvent(
                        name=f"sale-month-{month + 1}",
                        start_ts=start,
                        end_ts=start + length,
                        multiplier=mult,
                        kind="sale",
                    )
                )
        return cls(events)


class Workload:
    """External request rates (per second) of the entry points, one array element per entry."""

    #: Persistence (per minute) and size of the slow random drift every real traffic series
    #: has; the step's own persistence is AR_PHI ** (step_s / 60), so the drift wanders at
    #: the same pace in time whatever the step.
    AR_PHI = 0.9
    AR_SIGMA = 0.06
    #: Step-to-step jitter.
    WHITE_SIGMA = 0.03

    def __init__(
        self,
        base_rps: FloatArray,
        utc_offset_h: FloatArray,
        seasonality: FloatArray,
        calendar_sensitivity: FloatArray,
        calendar: Calendar,
        step_s: float = 60.0,
    ) -> None:
        self.base_rps = base_rps
        self._phi = self.AR_PHI ** (step_s / 60.0)
        self.utc_offset_h = utc_offset_h
        self.seasonality = seasonality
        self.calendar_sensitivity = calendar_sensitivity
        self.calendar = calendar
        self._drift = np.zeros(len(base_rps))

    def __len__(self) -> int:
        return len(self.base_rps)

    def expected(self, ts: float) -> FloatArray:
        """Noiseless rates at `ts`: base x daily x weekly x calendar."""
        local = ts + self.utc_offset_h * 3600.0
        hour = (local % DAY_S) / 3600.0
        s = self.seasonality
        daily = 1.0 + s * (daily_profile(hour) - 1.0)
        weekly = 1.0 + s * (weekly_profile(local) - 1.0)
        cal = 1.0 + self.calendar_sensitivity * (self.calendar.multiplier(ts) - 1.0)
        return np.asarray(self.base_rps * daily * weekly * cal, dtype=np.float64)

    def rates(self, ts: float, normals: FloatArray) -> FloatArray:
        """Noisy rates at `ts`; `normals` holds 2 x len(self) standard normal draws."""
        phi = self._phi
        self._drift = phi * self._drift + self.AR_SIGMA * math.sqrt(1 - phi * phi) * normals[0]
        noise = np.exp(self._drift) * (1.0 + self.WHITE_SIGMA * normals[1])
        return np.asarray(np.maximum(self.expected(ts) * noise, 0.0), dtype=np.float64)
