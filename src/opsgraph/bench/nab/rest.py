"""The rest period after an alert, which `bench nab` applies to the ensemble's scores.

It lives with the NAB harness because only that harness runs it: the live path does not
(yet) silence a series after an alert, so figures that need it are the harness's, not the
product's (docs/benchmarks.md says which).
"""

from __future__ import annotations

import numpy as np

from opsgraph.detect.base import FloatArray, IndexArray


class RestPeriod:
    """After a series scores at or above `level`, its next points are silenced (0): `rows` of
    them, or `fraction` of the points the series had before the alert when that is more.

    The rest period of an alert: one alert per burst, and the quiet stretch after it does not
    pile up false alarms while the series settles. A new alert can fire once the rest is over.
    The fraction scales the rest with how much of the series has been seen, so a series known
    for weeks rests longer than one known for hours (NAB: 35 rows or 2 %, docs/benchmarks.md).
    """

    def __init__(self, rows: int = 50, level: float = 0.9999, fraction: float = 0.0) -> None:
        if rows < 1 or not 0.0 < level <= 1.0 or not 0.0 <= fraction < 1.0:
            raise ValueError("need rows >= 1, 0 < level <= 1 and 0 <= fraction < 1")
        self.rows = rows
        self.level = level
        self.fraction = fraction
        self._left = np.zeros(0, dtype=np.int64)
        self._seen = np.zeros(0, dtype=np.int64)

    def reserve(self, n_series: int) -> None:
        grow = n_series - self._left.shape[0]
        if grow > 0:
            self._left = np.concatenate([self._left, np.zeros(grow, dtype=np.int64)])
            self._seen = np.concatenate([self._seen, np.zeros(grow, dtype=np.int64)])

    def __call__(self, idx: IndexArray, scores: FloatArray) -> FloatArray:
        left = self._left[idx]
        resting = left > 0
        out = np.where(resting, 0.0, scores)
        fired = ~resting & (scores >= self.level)
        length = np.maximum(self.rows, (self.fraction * self._seen[idx]).astype(np.int64))
        self._left[idx] = np.where(fired, length, np.maximum(left - 1, 0))
        self._seen[idx] += 1
        return np.asarray(out, dtype=np.float64)
