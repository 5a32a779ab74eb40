"""`opsgraph rca run` without a given onset, and with very little history."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from opsgraph.cli.main import app

runner = CliRunner()


def _csv(path: Path, rows: int = 50, start: int = 40) -> Path:
    """orders-db's cpu jumps at `start`, its caller orders follows, front-end two rows later."""
    rng = np.random.default_rng(0)
    lines = ["time,front-end_lat_90,orders_cpu,orders-db_cpu,orders-db_mem"]
    for i in range(rows):
        v = [100 + rng.normal(0, 2), 20 + rng.normal(0, 1), 5 + rng.normal(0, 0.2), 3e8]
        if i >= start:
            v[2] *= 10
            v[1] *= 1.5
            v[0] *= 3 if i >= start + 2 else 1
        lines.append(",".join([str(1_700_000_000 + i)] + [repr(x) for x in v]))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_without_an_onset_the_start_is_estimated_and_printed(tmp_path: Path) -> None:
    metrics = _csv(tmp_path / "m.csv")
    result = runner.invoke(app, ["rca", "run", "--metrics", str(metrics)])
    assert result.exit_code == 0, result.output
    assert "fault start: row 40 (time 1700000040), estimated from the metrics" in result.output
    assert "likely root cause orders-db" in result.output
    result = runner.invoke(app, ["rca", "run", "--metrics", str(metrics), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["fault_start"] == {"row": 40, "time": 1_700_000_040, "estimated": True}
    assert body["ranking"][0]["node"] == "orders-db" and body["fault_row"] == 40


def test_two_normal_rows_are_ranked(tmp_path: Path) -> None:
    metrics = _csv(tmp_path / "m.csv", rows=12, start=2)
    result = runner.invoke(
        app, ["rca", "run", "--metrics", str(metrics), "--fault-start", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["ranking"][0]["node"] == "orders-db"
    assert body["fault_start"] == {"row": 2, "time": 1_700_000_002, "estimated": False}
    result = runner.invoke(app, ["rca", "run", "--metrics", str(metrics)])
    assert result.exit_code == 0 and "estimated from the metrics" in result.output, result.output


def test_a_start_given_twice_is_refused(tmp_path: Path) -> None:
    metrics = _csv(tmp_path / "m.csv")
    args = ["--fault-start", "3", "--fault-time", "1700000040"]
    result = runner.invoke(app, ["rca", "run", "--metrics", str(metrics), *args])
    assert result.exit_code == 2 and "exactly one of --fault-start" in result.output
