"""`opsgraph train gnn|list`: train, evaluate and register; refuse bad combinations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from opsgraph.cli import app
from opsgraph.detect.gnn.registry import ModelRegistry

runner = CliRunner()


def test_train_registers_versions_and_lists_them(tmp_path: Path) -> None:
    args = ["train", "gnn", "--incidents", "4", "--epochs", "3", "--models", str(tmp_path)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "held out" in first.output and "registered in" in first.output
    second = runner.invoke(app, [*args, "--json"])
    info = json.loads(second.output)
    assert info["version"] == 2 and info["metrics"]["unseen_faults"]["nodes"] > 0
    assert info["data"]["unseen_fault_kinds"] == ["disk_full", "misconfiguration"]
    listed = runner.invoke(app, ["train", "list", "--models", str(tmp_path)])
    assert listed.exit_code == 0 and "graphsage" in listed.output
    assert [m.version for m in ModelRegistry(tmp_path).list("graphsage")] == [1, 2]


def test_self_supervised_on_recorded_metrics(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    nodes = ["web-1", "db-1"]
    header = ["time"] + [f"{n}_{m}" for n in nodes for m in ("cpu", "latency_ms")]
    rows = [[str(60 * t)] + [f"{v:.3f}" for v in 40 + rng.standard_normal(4)] for t in range(60)]
    metrics = tmp_path / "wide.csv"
    metrics.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")
    graph = tmp_path / "edges.csv"
    graph.write_text("source,target\nweb-1,db-1\n")
    models = tmp_path / "models"
    result = runner.invoke(
        app,
        ["train", "gnn", "--mode", "self-supervised", "--metrics", str(metrics), "--graph",
         str(graph), "--epochs", "3", "--incidents", "4", "--models", str(models), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["name"] == "graph_deviation" and info["data"]["nodes"] == 2
    assert info["data"]["windows"] == 9


def test_bad_combinations_exit_2_naming_the_problem(tmp_path: Path) -> None:
    metrics = tmp_path / "m.csv"
    metrics.write_text("time,a_cpu\n0,1\n")
    supervised = runner.invoke(app, ["train", "gnn", "--metrics", str(metrics)])
    assert supervised.exit_code == 2 and "self-supervised" in supervised.output
    lonely = runner.invoke(
        app, ["train", "gnn", "--mode", "self-supervised", "--graph", str(metrics)]
    )
    assert lonely.exit_code == 2 and "--graph goes with --metrics" in lonely.output
    short = runner.invoke(
        app,
        ["train", "gnn", "--mode", "self-supervised", "--metrics", str(metrics),
         "--models", str(tmp_path / "m")],
    )  # fmt: skip
    assert short.exit_code == 2 and "rows" in short.output
    empty = runner.invoke(app, ["train", "list", "--models", str(tmp_path / "none")])
    assert empty.exit_code == 0 and "no registered models" in empty.output
