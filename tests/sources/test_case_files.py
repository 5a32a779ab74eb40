"""Root-cause inputs from files, and `opsgraph rca run` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from opsgraph.cli.main import app
from opsgraph.core.errors import InvalidInputError
from opsgraph.sources.case_files import read_edges, read_metrics

runner = CliRunner()


def _csv(path: Path, rows: int = 50, start: int = 40) -> Path:
    rng = np.random.default_rng(0)
    header = "time,front-end_lat_90,orders_cpu,orders-db_cpu,orders-db_mem"
    lines = [header]
    for i in range(rows):
        v = [100 + rng.normal(0, 2), 20 + rng.normal(0, 1), 5 + rng.normal(0, 0.2), 3e8]
        if i >= start:
            v[2] *= 10  # orders-db cpu hog
            v[1] *= 1.5
            v[0] *= 3 if i >= start + 2 else 1
        lines.append(",".join([str(1_700_000_000 + i)] + [repr(x) for x in v]))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_columns_split_at_the_first_underscore(tmp_path: Path) -> None:
    table = read_metrics(_csv(tmp_path / "m.csv"))
    assert table.nodes == ["front-end", "orders", "orders-db", "orders-db"]
    assert table.metrics == ["lat_90", "cpu", "cpu", "mem"]
    assert table.row_at(1_700_000_040) == 40
    with pytest.raises(InvalidInputError, match="after the last row"):
        table.row_at(2e9)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a_cpu,b_cpu\n1,2\n3,4\n", "no time column"),
        ("time,cpu\n1,2\n2,3\n", "not <node>_<metric>"),
        ("time,a_cpu\n1,x\n2,3\n", "'x' is not a number"),
        ("time,a_cpu\n1,inf\n2,3\n", "infinite"),
        ("time,a_cpu\n1,2,3\n2,3\n", "3 fields, expected 2"),
        ("time,a_cpu\n1,2\n", "at least two rows"),
    ],
)
def test_bad_metric_files_name_the_problem(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "m.csv"
    path.write_text(text)
    with pytest.raises(InvalidInputError, match=reason):
        read_metrics(path)


def test_edges_with_kinds_and_unknown_nodes(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("source,target,kind\nfe,api\nasg,i-1,member\n")
    edges = read_edges(path, {"fe", "api", "asg", "i-1"})
    assert edges.calls == [("fe", "api")] and edges.members == [("asg", "i-1")]
    with pytest.raises(InvalidInputError, match="node 'asg' has no column"):
        read_edges(path, {"fe", "api"})
    path.write_text("fe,api,owns\n")
    with pytest.raises(InvalidInputError, match="kind 'owns'"):
        read_edges(path)


def test_rca_run_ranks_prints_and_writes_json(tmp_path: Path) -> None:
    metrics = _csv(tmp_path / "m.csv")
    graph = tmp_path / "g.csv"
    graph.write_text("front-end,orders\norders,orders-db\n")
    result = runner.invoke(
        app, ["rca", "run", "--metrics", str(metrics), "--graph", str(graph), "--fault-start", "40"]
    )
    assert result.exit_code == 0, result.output
    assert "cascade path: orders-db -> orders -> front-end" in result.output
    assert "likely root cause orders-db" in result.output
    result = runner.invoke(
        app,
        ["rca", "run", "--metrics", str(metrics), "--fault-time", "1700000040", "--json"],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["ranking"][0]["node"] == "orders-db"
    assert body["hypotheses"][0]["evidence"][0]["change_ts"] == 1_700_000_040


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        # (No start at all is estimated, and two normal rows are ranked:
        # tests/explain/test_rca_run.py.)
        (["--fault-start", "3", "--fault-time", "1700000040"], "exactly one"),
        (["--fault-start", "50"], "rows before and after"),
    ],
)
def test_rca_run_errors_exit_2(tmp_path: Path, extra: list[str], message: str) -> None:
    metrics = _csv(tmp_path / "m.csv")
    result = runner.invoke(app, ["rca", "run", "--metrics", str(metrics), *extra])
    assert result.exit_code == 2 and message in result.output, result.output


def test_sockshop_case_from_the_shared_data(tmp_path: Path, shared_data: Path) -> None:
    sockshop = shared_data / "rca" / "sockshop"
    run = sockshop / "payment-mem" / "1"
    normal = (run / "normal.csv").read_text().splitlines()
    anomalous = (run / "anomalous.csv").read_text().splitlines()
    joined = tmp_path / "case.csv"
    joined.write_text("\n".join(normal + anomalous[1:]) + "\n")
    result = runner.invoke(
        app,
        ["rca", "run", "--metrics", str(joined), "--fault-start", str(len(normal) - 1), "--json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ranking"][0]["node"] == "payment"
