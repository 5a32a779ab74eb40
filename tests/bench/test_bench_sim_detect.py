"""`opsgraph bench sim-detect` on a small run: every fault kind, sane figures."""

from __future__ import annotations

from opsgraph.bench.sim_detect import run_sim_detect_bench


def test_small_run() -> None:
    report = run_sim_detect_bench(
        detectors=["robust_z"], topologies=[(30, 1)], incidents=8, quiet_steps=60
    )
    (row,) = report["results"]
    assert row["incidents"] == 8 and len(row["detected_by_kind"]) == 8
    assert 0 < row["incidents_detected"] <= 8
    assert 0 <= row["node_precision"] <= 1 and 0 < row["node_recall"] <= 1
    assert row["false_alarms_per_node_day"] >= 0
