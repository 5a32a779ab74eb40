"""`opsgraph bench detect` measures every registered detector."""

from __future__ import annotations

from opsgraph.bench.detect import run_detect_bench, warmup_steps
from opsgraph.detect.registry import available


def test_every_detector_is_measured() -> None:
    report = run_detect_bench(series=50, steps=5, warmup=70)
    assert {r["detector"] for r in report["results"]} == set(available())
    assert all(r["samples"] == 250 and r["samples_per_s"] > 0 for r in report["results"])


def test_each_detector_is_timed_after_its_own_window() -> None:
    # new_level judges nothing for 600 points, on its own and inside the ensemble.
    assert warmup_steps("new_level", 70) == 600
    assert warmup_steps("ensemble", 70) == 600
    assert warmup_steps("robust_z", 70) == 70
