"""`opsgraph bench logs` on a slice of the real log data: grouping accuracy, BGL alerts, HDFS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsgraph.bench.logs import grouping_accuracy, run_logs_bench
from opsgraph.cli.main import app
from opsgraph.core.errors import InvalidInputError


def test_grouping_accuracy_counts_exact_groups_only() -> None:
    truth = ["a", "a", "b", "b", "c"]
    assert grouping_accuracy(truth, [1, 1, 2, 2, 3]) == 1.0
    # b split in two and c merged into a: no line has exactly its true group.
    assert grouping_accuracy(truth, [1, 1, 2, 4, 1]) == 0.0
    assert grouping_accuracy(truth, [1, 1, 2, 2, 2]) == pytest.approx(0.4)
    with pytest.raises(ValueError):
        grouping_accuracy(truth, [1])


def test_bench_on_a_slice_of_the_data(shared_data: Path) -> None:
    logs = shared_data / "logs"
    report = run_logs_bench(logs, systems=["Apache", "BGL"], lines=400, sessions=600)
    systems = {r["system"]: r for r in report["loghub2k"]["systems"]}
    assert set(systems) == {"Apache", "BGL"} and systems["Apache"]["lines"] == 400
    assert systems["Apache"]["grouping_accuracy"] == 1.0
    assert 0.8 <= report["loghub2k"]["mean"]["grouping_accuracy"] <= 1.0
    bgl = report["bgl_alerts"]
    # A quarter of these first 400 lines are alerts: no quality claim on so few, only the shape.
    assert bgl["n"] == 400 and bgl["anomalous"] > 0 and 0.0 <= bgl["auc_roc"] <= 1.0
    hdfs = report["hdfs_sessions"]
    assert hdfs["train_sessions"] == 600 and hdfs["line_max"]["n"] == 600
    assert hdfs["line_max"]["anomalous"] > 0
    assert 0.5 < hdfs["line_max"]["auc_roc"] <= 1.0
    assert 0.5 < hdfs["mean_surprise"]["auc_roc"] <= 1.0
    assert hdfs["line_max"]["precision"] >= 0.5
    assert report["settings"]["sim_threshold"] == 0.7


def test_cli_writes_the_result(tmp_path: Path, shared_data: Path) -> None:
    logs = shared_data / "logs"
    out = tmp_path / "logs.json"
    args = ["bench", "logs", "--data", str(logs), "--system", "HDFS", "--lines", "300"]
    result = CliRunner().invoke(app, [*args, "--sessions", "300", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "anomaly scoring" in result.output and "written to" in result.output
    report = json.loads(out.read_text())
    assert [r["system"] for r in report["loghub2k"]["systems"]] == ["HDFS"]
    assert "bgl_alerts" not in report
    bad = CliRunner().invoke(app, ["bench", "logs", "--data", str(tmp_path)])
    assert bad.exit_code == 2 and "loghub2k" in bad.output
    with pytest.raises(InvalidInputError, match="data"):
        run_logs_bench(logs, systems=["NoSuchSystem"])
