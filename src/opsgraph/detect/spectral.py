"""Spectral residual (Ren et al., KDD 2019): what stands out of a series' own spectrum.

Over each series' recent window (extended by a few extrapolated points so the newest point is
not at the edge), the log amplitude spectrum minus its local average is transformed back; the
newest point's saliency against the window's mean saliency is the raw score.
"""

from __future__ import annotations

import numpy as np

from opsgraph.detect.base import BoolArray, FloatArray, IndexArray, learnable


class SpectralResidualDetector:
    """Saliency of the newest point over a window of `window` points, for many series."""

    name = "spectral_residual"

    def __init__(
        self, window: int = 64, min_points: int = 32, extend: int = 5, smooth: int = 3
    ) -> None:
        if window < 16 or not 8 <= min_points <= window or extend < 1 or smooth < 1:
            raise ValueError("need window >= 16, 8 <= min_points <= window, extend, smooth >= 1")
        self.window = window
        self.min_points = min_points
        self.extend = extend
        self.smooth = smooth
        self._buf = np.zeros((0, window))
        self._count = np.zeros(0, dtype=np.int64)

    def reserve(self, n_series: int) -> None:
        grow = n_series - self._buf.shape[0]
        if grow > 0:
            self._buf = np.vstack([self._buf, np.zeros((grow, self.window))])
            self._count = np.concatenate([self._count, np.zeros(grow, dtype=np.int64)])

    def score(
        self, idx: IndexArray, values: FloatArray, ts: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        history = self._buf[idx]  # oldest first; the newest point is appended below
        # A missing point is not scored; stand the last value in so the transform stays finite.
        current = np.where(np.isfinite(values), values, history[:, -1])
        series = np.concatenate([history[:, 1:], current[:, None]], axis=1)
        # Extrapolate past the newest point along the mean slope towards it (the paper's 5.1).
        m = min(self.extend, self.window - 1)
        slope = (series[:, -1:] - series[:, -1 - m : -1]) / np.arange(m, 0, -1)[None, :]
        step = slope.mean(axis=1, keepdims=True)
        ahead = series[:, -1:] + step * np.arange(1, self.extend + 1)[None, :]
        x = np.concatenate([series, ahead], axis=1)
        x = x - x.mean(axis=1, keepdims=True)
        spectrum = np.fft.fft(x, axis=1)
        amplitude = np.abs(spectrum)
        log_amp = np.log(amplitude + 1e-8)
        # Moving average of the log spectrum over `smooth` frequencies (edges repeated).
        half = self.smooth // 2
        padded = np.pad(log_amp, ((0, 0), (half, self.smooth - 1 - half)), mode="edge")
        csum = np.concatenate([np.zeros((padded.shape[0], 1)), np.cumsum(padded, axis=1)], axis=1)
        smoothed = (csum[:, self.smooth :] - csum[:, : -self.smooth]) / self.smooth
        residual = np.exp(log_amp - smoothed)
        saliency = np.abs(np.fft.ifft(residual * spectrum / np.maximum(amplitude, 1e-8), axis=1))
        newest = saliency[:, self.window - 1]
        reference = saliency[:, : self.window - 1].mean(axis=1)
        raw = newest / np.maximum(reference, 1e-12)
        ready = (self._count[idx] >= self.min_points) & np.isfinite(values)
        return np.where(ready, raw, np.nan), np.where(ready, np.median(history, axis=1), np.nan)

    def learn(
        self,
        idx: IndexArray,
        values: FloatArray,
        accept: BoolArray | None = None,
        ts: FloatArray | None = None,
    ) -> None:
        keep = learnable(values, accept)
        idx, values = idx[keep], values[keep]
        empty = self._count[idx] == 0
        # A new series starts as if it had always been at its first value (no false edge).
        self._buf[idx[empty]] = values[empty, None]
        self._buf[idx] = np.concatenate([self._buf[idx, 1:], values[:, None]], axis=1)
        self._count[idx] += 1
