"""`opsgraph bench rca` on a small simulated topology, on tiny real-layout folders and on the
real Sock Shop, PetShop and Nezha cases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from opsgraph.bench.rca import run_rca_bench
from opsgraph.cli.main import app

RANKERS = {"opsgraph", "baro", "baro_abs", "most_anomalous", "nsigma", "random"}


def test_simulated_incidents_every_kind_and_baselines() -> None:
    report = run_rca_bench(topologies=[(20, 1, 16)])
    results = report["groups"]["sim-20"]
    assert set(results) == RANKERS
    ours = results["opsgraph"]
    assert ours["cases"] == 16 and len(ours["top1_by_kind"]) == 8
    assert ours["top1"] >= results["random"]["top1"]
    assert 0 <= ours["cascade_precision"] <= 1 and 0 <= ours["cascade_recall"] <= 1
    assert results["random"]["cascade_precision"] is None
    assert ours["top1"] <= ours["top3"] <= 1.0
    kind = ours["by_kind"]["cpu_hog"]
    assert kind["cases"] == 2 and kind["top1"] <= kind["top3"] <= 1.0 and 0 <= kind["avg5"] <= 1
    assert report["sets"]["sim-20"]["onset"] == "true"


def _shop(root: Path, runs: int = 2) -> Path:
    """A tiny Sock Shop layout: three services, each service's cpu hogged in turn."""
    rng = np.random.default_rng(0)
    services = ["carts", "orders", "user"]
    header = "time," + ",".join(f"{s}_cpu,{s}_mem" for s in services)
    for s in services:
        for run in range(1, runs + 1):
            folder = root / f"{s}-cpu" / str(run)
            folder.mkdir(parents=True)
            for name, rows, hog in (("normal.csv", 40, False), ("anomalous.csv", 20, True)):
                lines = [header]
                for i in range(rows):
                    cells = []
                    for t in services:
                        cpu = 10 * (1 + 0.05 * rng.standard_normal())
                        cells += [cpu * (8 if hog and t == s else 1), 3e8 + 1e5 * i]
                    lines.append(",".join([str(1000 + i)] + [repr(c) for c in cells]))
                (folder / name).write_text("\n".join(lines) + "\n")
    return root


def test_real_layouts_with_both_onsets_through_the_command(tmp_path: Path) -> None:
    shop = _shop(tmp_path / "shop")
    out = tmp_path / "rca.json"
    result = CliRunner().invoke(app, ["bench", "rca", "--data", str(shop), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "root cause: shop (6 cases, estimated onset)" in result.output
    assert "shop@true" in result.output and "per fault" in result.output
    report = json.loads(out.read_text())
    assert set(report["groups"]) == {"shop", "shop@true"}
    for group in ("shop", "shop@true"):
        assert set(report["groups"][group]) == RANKERS
        assert report["groups"][group]["opsgraph"]["top1"] == 1.0
        assert report["groups"][group]["baro"]["by_kind"]["cpu"]["cases"] == 6
    assert report["sets"]["shop"]["onset_error"]["opsgraph"]["exact"] == 1.0
    only = run_rca_bench(data=shop, onsets=("true",))
    assert set(only["groups"]) == {"shop@true"}
    bad = CliRunner().invoke(app, ["bench", "rca", "--data", str(shop), "--onset", "soon"])
    assert bad.exit_code == 2 and "--onset must be" in bad.output


def test_sockshop_cases_are_read_and_ranked(shared_data: Path) -> None:
    sockshop = shared_data / "rca" / "sockshop"
    report = run_rca_bench(data=sockshop, onsets=("true",))
    ours = report["groups"]["sockshop@true"]["opsgraph"]
    assert ours["cases"] == 50
    assert ours["top1"] >= 0.9  # published BARO accuracy@1 is about 0.96
    assert ours["cascade_precision"] is None  # no ground-truth cascade in that data


#: opsgraph's top-1 with the estimated onset, as measured for docs/benchmarks.md ("Root
#: cause"); a change that loses more than 0.05 on a set fails here.
MEASURED = {"sockshop": 0.98, "petshop_train": 0.45, "petshop_train+slo": 0.50, "nezha_tt": 0.067}


@pytest.mark.slow
def test_real_sets_hold_their_estimated_onset_figures(shared_data: Path) -> None:
    sets = [shared_data / "rca" / name for name in ("sockshop", "petshop_train", "nezha_tt")]
    report = run_rca_bench(data=sets, onsets=("estimated",))
    assert set(report["groups"]) == set(MEASURED)
    for group, figure in MEASURED.items():
        results = report["groups"][group]
        assert results["opsgraph"]["top1"] >= figure - 0.05, (group, results["opsgraph"])
        assert results["opsgraph"]["top1"] >= results["baro"]["top1"], group
