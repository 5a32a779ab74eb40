"""`opsgraph detect score` and `opsgraph backtest` from the command line, files and stores."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from opsgraph.cli.main import app
from opsgraph.runtime.root import Runtime
from opsgraph.runtime.settings import Settings

runner = CliRunner()


def _csv(path: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    lines = ["timestamp,cpu,mem"] + [
        f"{1_700_000_000 + 60 * i},{40 + rng.normal():.3f},{60 + rng.normal():.3f}"
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_detect_score_writes_one_score_per_row(tmp_path: Path) -> None:
    test = _csv(tmp_path / "test.csv", 300)
    train = _csv(tmp_path / "train.csv", 200)
    out = tmp_path / "out" / "scores.csv"
    result = runner.invoke(
        app,
        [
            "detect",
            "score",
            "--test",
            str(test),
            "--train",
            str(train),
            "--out",
            str(out),
            "--signals",
        ],
    )
    assert result.exit_code == 0, result.output
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 300 and set(rows[0]) == {"anomaly_score", "score_cpu", "score_mem"}
    assert all(0.0 <= float(r["anomaly_score"]) <= 1.0 for r in rows)


def test_detect_score_errors_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,cpu\n1,high\n")
    result = runner.invoke(app, ["detect", "score", "--test", str(bad), "--out", "x.csv"])
    assert result.exit_code == 2 and "line 2" in result.output and "not a number" in result.output


def test_backtest_a_file(tmp_path: Path) -> None:
    data = _csv(tmp_path / "history.csv", 400)
    out = tmp_path / "bt.json"
    result = runner.invoke(app, ["backtest", "--data", str(data), "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["summary"]["rows"] == 400 and report["summary"]["series"] == 2
    assert all(a["resource_id"] == "history" for a in report["alerts"])


def test_backtest_a_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSGRAPH_DATA_DIR", str(tmp_path))
    rt = Runtime(Settings(data_dir=tmp_path, sim={"resources": 10, "preroll_steps": 60}))
    rt.simulation.start()
    db = next(r.id for r in rt.estate.resources.values() if r.kind.value == "rds")
    rt.simulation.inject_fault(
        __import__("opsgraph.sim", fromlist=["FaultKind"]).FaultKind.DEPENDENCY_OUTAGE, db
    )
    for _ in range(5):
        rt.simulation.step()
    rt.close()
    out = tmp_path / "bt.json"
    result = runner.invoke(
        app, ["backtest", "--from", "configured", "--resource", db, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["summary"]["rows"] == 65
    assert any(a["resource_id"] == db for a in report["alerts"])


def test_backtest_needs_exactly_one_source() -> None:
    result = runner.invoke(app, ["backtest"])
    assert result.exit_code == 2 and "exactly one" in result.output
    result = runner.invoke(app, ["backtest", "--data", "x.csv", "--from", "configured"])
    assert result.exit_code == 2


def test_detect_score_with_an_autoencoder_reports_drift(tmp_path: Path) -> None:
    test = _csv(tmp_path / "test.csv", 120)
    train = _csv(tmp_path / "train.csv", 300)
    out = tmp_path / "s.csv"
    result = runner.invoke(
        app,
        [
            "detect",
            "score",
            "--test",
            str(test),
            "--train",
            str(train),
            "--out",
            str(out),
            "--multivariate",
            "autoencoder",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "autoencoder: KS" in result.output
    bad = runner.invoke(
        app,
        [
            "detect",
            "score",
            "--test",
            str(test),
            "--train",
            str(train),
            "--out",
            str(out),
            "--multivariate",
            "crystalball",
        ],
    )
    assert bad.exit_code == 2 and "unknown batch detector" in bad.output
