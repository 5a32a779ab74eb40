"""New-level detector: a value in a band of the series' range that it has never visited.

Each series learns its first `window` points as they come. Their range, cut into `bins` equal
bands, fixes the band width for good; every band a learned point falls in is marked as seen.
Judging starts once the series also has `min_span_s` of history (a day by default), so a
series sampled every minute has seen a whole daily cycle first; until then its points only
mark bands. From then on a point in a band never seen before is a novelty: a series that has
moved between 40 % and 60 % CPU for days and now reads 75 %, a queue that has never been
empty and now is, a latency that lands between two regimes it knows. The raw score is how
many bands the point lies beyond the seen ones (1 for an unseen band inside them), 0 for a
familiar band.

A novel level is an event, not a distance, so the detector calibrates itself (`probability`):
a novelty is an anomaly with probability `confidence`, anything else is not. The calibrated
ensemble takes that probability as is, instead of fitting a tail to a score that is nearly
always 0 (docs/benchmarks.md, NAB section: the member that moved the score past 65).

Memory per series is fixed: the warm-up buffer, the lowest and highest band seen, and one bit
per band within `margin` bands of the warm-up range (further out, only the extremes count).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from opsgraph.detect.base import BoolArray, FloatArray, IndexArray, learnable

_FAR = 1e12  # bands further than this from the warm-up range are clamped (no int overflow)


class NewLevelDetector:
    """Scores a point by how far it lies outside the bands its series has visited."""

    name = "new_level"

    def __init__(
        self,
        window: int = 600,
        bins: int = 16,
        margin: int = 64,
        confidence: float = 0.9999,
        min_span_s: float = 86_400.0,
    ) -> None:
        if window < 2 or bins < 1 or margin < 0 or not 0.5 < confidence < 1.0 or min_span_s < 0:
            raise ValueError(
                "need window >= 2, bins >= 1, margin >= 0, 0.5 < confidence < 1, min_span_s >= 0"
            )
        self.window = window
        self.min_span_s = min_span_s
        self.bins = bins
        self.margin = margin
        self.confidence = confidence
        self._span = bins + 2 * margin + 1
        self._warm = np.full((0, window), np.nan, dtype=np.float32)
        self._count = np.zeros(0, dtype=np.int64)
        self._t0 = np.full(0, np.nan)  # timestamp of each series' first learned point
        self._lo = np.full(0, np.nan)
        self._width = np.full(0, np.nan)
        self._min_band = np.zeros(0, dtype=np.int64)
        self._max_band = np.zeros(0, dtype=np.int64)
        self._seen = np.zeros((0, self._span), dtype=bool)

    def reserve(self, n_series: int) -> None:
        grow = n_series - self._count.shape[0]
        if grow <= 0:
            return
        self._warm = np.vstack([self._warm, np.full((grow, self.window), np.nan, np.float32)])
        self._count = np.concatenate([self._count, np.zeros(grow, dtype=np.int64)])
        self._t0 = np.concatenate([self._t0, np.full(grow, np.nan)])
        self._lo = np.concatenate([self._lo, np.full(grow, np.nan)])
        self._width = np.concatenate([self._width, np.full(grow, np.nan)])
        self._min_band = np.concatenate([self._min_band, np.zeros(grow, dtype=np.int64)])
        self._max_band = np.concatenate([self._max_band, np.zeros(grow, dtype=np.int64)])
        self._seen = np.vstack([self._seen, np.zeros((grow, self._span), dtype=bool)])

    def _bands(self, idx: IndexArray, values: FloatArray) -> npt.NDArray[np.int64]:
        with np.errstate(invalid="ignore"):
            pos = (values - self._lo[idx]) / self._width[idx]
        bands: npt.NDArray[np.int64] = np.floor(
            np.clip(np.nan_to_num(pos, nan=0.0), -_FAR, _FAR)
        ).astype(np.int64)
        return bands

    def score(
        self, idx: IndexArray, values: FloatArray, ts: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """Bands beyond the seen ones (0 when familiar, NaN while warming up) and the nearest
        value of the seen range."""
        raw = np.full(idx.shape[0], np.nan)
        expected = np.full(idx.shape[0], np.nan)
        ready = (self._count[idx] >= self.window) & np.isfinite(values)
        if ts is not None and self.min_span_s > 0:
            with np.errstate(invalid="ignore"):
                young = (ts - self._t0[idx]) < self.min_span_s  # NaN (no time seen): not young
            ready &= ~young
        if not ready.any():
            return raw, expected
        sel, x = idx[ready], values[ready]
        band = self._bands(sel, x)
        lo_b, hi_b = self._min_band[sel], self._max_band[sel]
        out = np.where(band > hi_b, band - hi_b, np.where(band < lo_b, lo_b - band, 0))
        slot = band + self.margin
        inside = (out == 0) & (slot >= 0) & (slot < self._span)
        rows = np.flatnonzero(inside)
        hole = np.zeros(sel.shape[0], dtype=bool)
        hole[rows] = ~self._seen[sel[rows], slot[rows]]
        raw[ready] = np.where(hole, 1, out).astype(np.float64)
        lo_v = self._lo[sel] + lo_b * self._width[sel]
        hi_v = self._lo[sel] + (hi_b + 1) * self._width[sel]
        expected[ready] = np.clip(x, lo_v, hi_v)
        return raw, expected

    def probability(self, idx: IndexArray, raw: FloatArray) -> FloatArray:
        """Its own calibration: `confidence` for a novel level, 0 otherwise."""
        return np.where(np.nan_to_num(raw, nan=0.0) > 0, self.confidence, 0.0)

    def learn(
        self,
        idx: IndexArray,
        values: FloatArray,
        accept: BoolArray | None = None,
        ts: FloatArray | None = None,
    ) -> None:
        keep = learnable(values, accept)
        idx, values = idx[keep], values[keep]
        if ts is not None:
            first = np.isnan(self._t0[idx])
            self._t0[idx[first]] = ts[keep][first]
        warming = self._count[idx] < self.window
        if warming.any():
            w_idx = idx[warming]
            self._warm[w_idx, self._count[w_idx]] = values[warming]
            self._count[w_idx] += 1
            for series in w_idx[self._count[w_idx] >= self.window].tolist():
                self._settle(series)
        if (~warming).any():
            self._mark(idx[~warming], values[~warming])

    def _settle(self, series: int) -> None:
        """The warm-up is complete: fix the band width and mark the warm-up's bands."""
        points = self._warm[series].astype(np.float64)
        lo, hi = float(points.min()), float(points.max())
        width = (hi - lo) / self.bins if hi > lo else max(abs(hi), 1.0) * 0.1
        self._lo[series], self._width[series] = lo, width
        sel = np.full(points.shape[0], series, dtype=np.int64)
        band = self._bands(sel, points)
        self._min_band[series], self._max_band[series] = band.min(), band.max()
        slot = band + self.margin
        self._seen[series, slot[(slot >= 0) & (slot < self._span)]] = True
        self._warm[series] = np.nan  # no longer needed

    def _mark(self, idx: IndexArray, values: FloatArray) -> None:
        band = self._bands(idx, values)
        self._min_band[idx] = np.minimum(self._min_band[idx], band)
        self._max_band[idx] = np.maximum(self._max_band[idx], band)
        slot = band + self.margin
        inside = (slot >= 0) & (slot < self._span)
        self._seen[idx[inside], slot[inside]] = True
