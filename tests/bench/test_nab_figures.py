"""The NAB figures docs/benchmarks.md and README quote, pinned through the live path.

Each figure is the product's: `run_nab` builds the Ingestor that `serve` builds from the same
settings, and counts the anomalies its decision step opens. A change that loses more than a
point fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from opsgraph.bench.nab.run import run_nab
from opsgraph.detect.settings import DetectSettings


@pytest.mark.slow
def test_the_live_default_holds_its_nab_figures(shared_data: Path) -> None:
    settings = DetectSettings()  # what `serve` and `demo` run without a config
    assert settings.detector == "ensemble"
    report = run_nab(shared_data / "nab", settings, splits=10, seed=0)
    profiles = report["profiles"]
    assert profiles["standard"]["score"] >= 69.08 - 1.0
    assert profiles["reward_low_FP_rate"]["score"] >= 55.06 - 1.0
    assert profiles["reward_low_FN_rate"]["score"] >= 75.65 - 1.0
    held = report["held_out"]
    # Decision settings chosen on half of the files, scored on the other half.
    assert held["held_out_mean"] >= 70.17 - 1.0
    assert held["gap_mean"] <= 2.0
