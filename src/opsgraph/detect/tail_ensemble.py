"""The calibrated ensemble as one streaming detector, for the live path and backtests.

Each member's raw score goes through its own per-series tail calibrator (`detect/tail.py`);
the ensemble's raw score is the surprise of the most confident member, -log10 of its tail
probability (corrected for the number of tail members, `detect/ensemble.py`), so 3 means
"one in a thousand for this series" whatever the member and the series' scale. The live
path reports it as surprise / 10 (`detect/calibrate.py`).

How rare a point is and how far it is from normal are different questions: a quiet series'
one-in-10^6 wobble is rare but small. `magnitude` gives the second answer, the robust z of the
`robust_z` member (when there is one), which the live path turns into severity.
"""

from __future__ import annotations

import numpy as np

from opsgraph.detect.base import BoolArray, FloatArray, IndexArray
from opsgraph.detect.calibrate import surprise_of
from opsgraph.detect.ensemble import CalibratedEnsemble
from opsgraph.detect.members import DEFAULT_MEMBERS, TAIL_LEVEL, create_members, parse_members


class TailEnsembleDetector:
    """Members scored and calibrated per series; raw score = -log10(1 - max probability)."""

    name = "ensemble"
    #: Its raw score is already a calibrated surprise: the live path only rescales it.
    reports_surprise = True

    def __init__(
        self,
        members: str = DEFAULT_MEMBERS,
        level: float = TAIL_LEVEL,
        history: int = 2000,
        min_points: int = 20,
    ) -> None:
        parsed = parse_members(members)
        if any(name == self.name for name, _, _ in parsed):
            raise ValueError("an ensemble cannot hold itself")
        self.spec = members
        self.ensemble = CalibratedEnsemble(
            create_members(parsed, min_points), history=history, level=level
        )
        self._last: tuple[IndexArray, list[FloatArray]] | None = None
        names = [name for name, _, _ in parsed]
        self._z_member = names.index("robust_z") if "robust_z" in names else None
        self._magnitude: FloatArray | None = None

    def reserve(self, n_series: int) -> None:
        self.ensemble.reserve(n_series)

    def score(
        self, idx: IndexArray, values: FloatArray, ts: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        best, expected, raws = self.ensemble.score(idx, values, ts)
        self._last = (idx.copy(), raws)
        self._magnitude = None if self._z_member is None else raws[self._z_member]
        surprise = surprise_of(1.0 - best)
        # Not a single member is ready for a point it cannot judge (missing value): NaN.
        surprise = np.where(np.isfinite(values), surprise, np.nan)
        return np.asarray(surprise, dtype=np.float64), expected

    def magnitude(self) -> FloatArray | None:
        """The robust z of each point of the last `score` (NaN while warming up), or None
        without a `robust_z` member."""
        return self._magnitude

    def learn(
        self,
        idx: IndexArray,
        values: FloatArray,
        accept: BoolArray | None = None,
        ts: FloatArray | None = None,
    ) -> None:
        # The calibrators learn the raw scores of the points just scored (score, then learn);
        # without a matching score, only the members learn.
        if self._last is not None and np.array_equal(self._last[0], idx):
            self.ensemble.learn(idx, values, self._last[1], accept, ts=ts)
        else:
            for member in self.ensemble.members:
                member.learn(idx, values, accept, ts=ts)
        self._last = None
