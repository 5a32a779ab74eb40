"""`opsgraph bench rca` on a small simulated topology and on the real Sock Shop cases."""

from __future__ import annotations

from pathlib import Path

from opsgraph.bench.rca import run_rca_bench


def test_simulated_incidents_every_kind_and_baselines() -> None:
    report = run_rca_bench(topologies=[(20, 1, 16)])
    results = report["groups"]["sim-20"]
    assert set(results) == {"opsgraph", "most_anomalous", "nsigma", "random"}
    ours = results["opsgraph"]
    assert ours["cases"] == 16 and len(ours["top1_by_kind"]) == 8
    assert ours["top1"] >= results["random"]["top1"]
    assert 0 <= ours["cascade_precision"] <= 1 and 0 <= ours["cascade_recall"] <= 1
    assert results["random"]["cascade_precision"] is None
    assert ours["top1"] <= ours["top3"] <= 1.0


def test_sockshop_cases_are_read_and_ranked(shared_data: Path) -> None:
    sockshop = shared_data / "rca" / "sockshop"
    report = run_rca_bench(data=sockshop)
    ours = report["groups"]["sockshop"]["opsgraph"]
    assert ours["cases"] == 50
    assert ours["top1"] >= 0.9  # published BARO accuracy@1 is about 0.96
    assert ours["cascade_precision"] is None  # no ground-truth cascade in that data
