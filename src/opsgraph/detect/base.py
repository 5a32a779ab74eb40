"""The detector and calibrator contracts: vectorised over many series at once.

A series is a dense integer index; a batch is (index array, value array, optional timestamps)
with each series at most once, scored before it is learned so a score never sees its own point.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

#: MAD of a normal distribution times this is its standard deviation.
MAD_TO_SIGMA = 1.4826
#: The same for the mean absolute deviation.
MEANAD_TO_SIGMA = 1.2533

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@runtime_checkable
class StreamingDetector(Protocol):
    """Scores each new point of many series against what it has learned of each."""

    name: str

    def reserve(self, n_series: int) -> None:
        """Make room for series indices 0 .. n_series - 1 (new series start empty)."""

    def score(
        self, idx: IndexArray, values: FloatArray, ts: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """Raw scores (>= 0, larger = more anomalous; NaN while a series warms up) and the
        value each series was expected to have. `ts` (epoch seconds) is needed by detectors
        that know time, such as seasonal baselines."""

    def learn(
        self,
        idx: IndexArray,
        values: FloatArray,
        accept: BoolArray | None = None,
        ts: FloatArray | None = None,
    ) -> None:
        """Take the points into each series' state; `accept` False refuses a point."""


class Calibrator(Protocol):
    """Maps a detector's raw scores onto one scale: probability of anomaly in [0, 1]."""

    def __call__(self, raw: FloatArray, /) -> FloatArray: ...


def learnable(values: FloatArray, accept: BoolArray | None) -> BoolArray:
    """The points a detector may learn: finite, and not refused by the caller."""
    keep = np.isfinite(values)
    return keep if accept is None else keep & accept
