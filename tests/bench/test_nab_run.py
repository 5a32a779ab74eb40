"""`opsgraph bench nab` on a few files: the live path's alerts and NAB's result layout."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsgraph.bench.nab.run import run_nab
from opsgraph.cli.main import app
from opsgraph.core.errors import InvalidInputError
from opsgraph.detect.settings import DetectSettings

FILES = ("art_daily_jumpsup", "ec2_cpu_utilization_825cc2")


def test_run_scores_and_writes_results(tmp_path: Path, shared_data: Path) -> None:
    nab = shared_data / "nab"
    settings = DetectSettings(detector="robust_z", params={"window": 30})
    report = run_nab(nab, settings, out=tmp_path, only=FILES, splits=2)
    assert report["files"] == 2 and report["detector"] == "robust_z"
    standard = report["profiles"]["standard"]
    assert standard["tp"] >= 1 and -100 < standard["score"] <= 100
    held = report["held_out"]
    assert held["splits"] == 2 and len(held["runs"]) == 2
    # Replaying the live run's scores at its own settings gives back its own figure.
    assert held["all_files_live_default"] == standard["score"]
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.csv"))
    assert written == [
        "opsgraphRobustz/artificialWithAnomaly/opsgraphRobustz_art_daily_jumpsup.csv",
        "opsgraphRobustz/realAWSCloudwatch/opsgraphRobustz_ec2_cpu_utilization_825cc2.csv",
    ]
    with (tmp_path / written[0]).open() as handle:
        rows = list(csv.DictReader(handle))
    source = (nab / "data/artificialWithAnomaly/art_daily_jumpsup.csv").read_text().splitlines()
    assert len(rows) == len(source) - 1
    assert [r["timestamp"] for r in rows[:3]] == [line.split(",")[0] for line in source[1:4]]
    # A detection is an anomaly opened: 1 at that row, 0 elsewhere.
    assert {float(r["anomaly_score"]) for r in rows} == {0.0, 1.0}
    assert {r["label"] for r in rows} == {"0", "1"}


def test_unknown_file_and_bad_windows(shared_data: Path) -> None:
    nab = shared_data / "nab"
    with pytest.raises(InvalidInputError, match="no NAB file"):
        run_nab(nab, only=("nothing-like-this",), splits=0)
    result = CliRunner().invoke(
        app, ["bench", "nab", "--data", str(nab), "--members", "robust_z@x"]
    )
    assert result.exit_code == 2 and "window must be an integer" in result.output
    result = CliRunner().invoke(app, ["bench", "nab", "--data", str(nab), "--members", "oracle"])
    assert result.exit_code == 2 and "unknown detector" in result.output
    result = CliRunner().invoke(app, ["bench", "nab", "--data", "/nonexistent"])
    assert result.exit_code == 2 and "NAB corpus" in result.output
