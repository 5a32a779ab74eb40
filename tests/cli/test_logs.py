"""`opsgraph logs score`: every line's template and score as CSV; bad paths exit 2."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from opsgraph.cli.logs import COLUMNS
from opsgraph.cli.main import app

runner = CliRunner()


def _log(path: Path, lines: list[str]) -> Path:
    path.write_text("\r\n".join(lines), encoding="utf-8")
    return path


def _normal(n: int) -> list[str]:
    return [
        f"2024-05-01 10:{i % 60:02d}:00 INFO worker {i} processed job {7 * i}" for i in range(n)
    ]


def test_scores_every_line_to_csv(tmp_path: Path) -> None:
    lines = [*_normal(1500), "2024-05-01 11:00:00 ERROR worker 3 lost its database connection"]
    out = tmp_path / "scores.csv"
    result = runner.invoke(
        app, ["logs", "score", str(_log(tmp_path / "app.log", lines)), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "1,501 lines, 2 templates, 1 anomalous" in result.output
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == COLUMNS and len(rows) == 1501
    first, last = rows[0], rows[-1]
    assert first["template"] == "<TS> INFO worker <NUM> processed job <NUM>"
    assert first["new_template"] == "1" and first["score"] == "0.0000"
    assert last["level"] == "error" and last["is_anomaly"] == "1" and last["new_template"] == "1"
    assert last["severity"] in ("high", "critical") and last["line"] == "1501"
    assert {r["is_anomaly"] for r in rows[:-1]} == {"0"}
    assert "most anomalous lines" in result.output and "database" in result.output


def test_train_file_is_learned_first(tmp_path: Path) -> None:
    train = _log(tmp_path / "train.log", _normal(2000))
    test = _log(tmp_path / "test.log", ["2024-05-02 09:00:00 INFO worker 5 processed job 1"])
    out = tmp_path / "s.csv"
    args = ["logs", "score", str(test), "--train", str(train), "--out", str(out), "--top", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    with out.open(newline="") as f:
        (row,) = csv.DictReader(f)
    assert row["new_template"] == "0" and row["template_id"] == "1"


def test_bad_paths_exit_2(tmp_path: Path) -> None:
    log = _log(tmp_path / "a.log", ["one line"])
    missing = runner.invoke(app, ["logs", "score", str(tmp_path / "nope.log")])
    assert missing.exit_code == 2 and "FILE" in missing.output
    no_train = runner.invoke(app, ["logs", "score", str(log), "--train", str(tmp_path / "x")])
    assert no_train.exit_code == 2 and "--train" in no_train.output
    unwritable = runner.invoke(app, ["logs", "score", str(log), "--out", str(tmp_path)])
    assert unwritable.exit_code == 2 and "--out" in unwritable.output
    bad_config = tmp_path / "bad.yaml"
    bad_config.write_text("logs:\n  bucket_s: -1\n")
    config = runner.invoke(app, ["logs", "score", str(log), "--config", str(bad_config)])
    assert config.exit_code == 2 and "logs.bucket_s" in config.output
