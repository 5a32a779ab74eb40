"""Business calendars as a feature of detection: what a sale or a holiday explains is not an
anomaly.

Each event multiplies traffic by a known factor over its time range. For the metrics that
follow traffic, a value between the learned expectation and the expectation times the
multiplier is fully explained (the detector sees the expectation); beyond it, only the part
the event does not explain remains (the detector sees value / multiplier); a move the other
way is left as it is. The detector also learns the explained value, so a two-day sale does
not become the new normal.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from opsgraph.core.models import CalendarEvent
from opsgraph.detect.base import BoolArray, FloatArray


class CalendarIndex:
    """Events sorted by start; the combined multiplier at any timestamps (overlaps multiply)."""

    def __init__(self, events: Iterable[CalendarEvent] = ()) -> None:
        self.events = sorted(events, key=lambda e: (e.start_ts, e.name))
        self._starts = np.array([e.start_ts for e in self.events])
        self._ends = np.array([e.end_ts for e in self.events])
        self._mult = np.array([e.multiplier for e in self.events])

    def __len__(self) -> int:
        return len(self.events)

    def active(self, ts: float) -> list[CalendarEvent]:
        return [e for e in self.events if e.active_at(ts)]

    def multiplier(self, ts: FloatArray) -> FloatArray:
        """The product of the multipliers of the events in force at each timestamp."""
        out = np.ones(ts.shape[0])
        if not self.events:
            return out
        lo, hi = float(ts.min()), float(ts.max())
        for k in np.flatnonzero((self._starts <= hi) & (self._ends > lo)).tolist():
            inside = (ts >= self._starts[k]) & (ts < self._ends[k])
            out[inside] *= self._mult[k]
        return out


def explained(values: FloatArray, expected: FloatArray, multiplier: FloatArray) -> FloatArray:
    """What the detector should see of each value once the calendar's multiplier is accounted
    for (see the module's docstring); without an expectation yet, value / multiplier."""
    out = values / multiplier
    known = np.isfinite(expected)
    scaled = expected * multiplier
    lo, hi = np.minimum(expected, scaled), np.maximum(expected, scaled)
    within: BoolArray = known & (values >= lo) & (values <= hi)
    against: BoolArray = known & np.where(multiplier >= 1.0, values < lo, values > hi)
    out[within] = expected[within]
    out[against] = values[against]
    return np.asarray(out, dtype=np.float64)
