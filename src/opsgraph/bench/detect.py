"""`opsgraph bench detect`: samples per second of each registered detector (score + learn).

Every detector sees the same seasonal, noisy stream of many series at once, after a warm-up
long enough to fill its state, so the figure is its steady-state cost.
"""

from __future__ import annotations

import os
import platform
import time
from typing import Any

import numpy as np

from opsgraph import __version__
from opsgraph.detect.registry import available, create_detector

STEP_S = 60.0
T0 = 1_750_000_000.0


def run_detect_bench(
    *, series: int = 10_000, steps: int = 100, warmup: int = 200, names: list[str] | None = None
) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    base = rng.uniform(1, 1000, size=series)
    idx = np.arange(series, dtype=np.int64)
    # A detector that judges nothing until it has seen `window` points is warmed that long.
    longest = max([warmup] + [warmup_steps(name, warmup) for name in names or sorted(available())])
    total = longest + steps
    t = np.arange(total)[:, None]
    data = (
        base * (1 + 0.2 * np.sin(2 * np.pi * t * STEP_S / 86_400))
        + rng.normal(0, 0.05, size=(total, series)) * base
    )
    results = []
    for name in names or sorted(available()):
        det = create_detector(name)
        det.reserve(series)
        warm = warmup_steps(name, warmup)
        for k in range(warm):
            ts = np.full(series, T0 + k * STEP_S)
            det.score(idx, data[k], ts)
            det.learn(idx, data[k], ts=ts)
        start = time.perf_counter()
        for k in range(warm, warm + steps):
            ts = np.full(series, T0 + k * STEP_S)
            det.score(idx, data[k], ts)
            det.learn(idx, data[k], ts=ts)
        seconds = time.perf_counter() - start
        results.append(
            {
                "detector": name,
                "series": series,
                "samples": series * steps,
                "seconds": round(seconds, 3),
                "samples_per_s": round(series * steps / seconds),
            }
        )
    return {
        "benchmark": "detect",
        "opsgraph": __version__,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "results": results,
    }


def warmup_steps(name: str, warmup: int) -> int:
    """At least `warmup` steps, and at least the window of the detector (or of any member of an
    ensemble), so each is timed in its steady state: new_level judges nothing before 600."""
    det = create_detector(name)
    inner = getattr(getattr(det, "ensemble", None), "members", [det])
    windows = [getattr(m, "window", 0) for m in inner]
    return max([warmup] + [w for w in windows if isinstance(w, int)])
