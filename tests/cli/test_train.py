"""`opsgraph train gnn|list`: train, evaluate and register; refuse bad combinations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from opsgraph.cli.main import app
from opsgraph.models.gnn.registry import ModelRegistry

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


def _wide_csv(path: Path, rows: int = 200) -> Path:
    rng = np.random.default_rng(1)
    lines = ["timestamp,cpu,memory,disk,label"]
    for t in range(rows):
        cpu, memory, disk = 40 + 5 * rng.standard_normal(), 60 + rng.standard_normal(), 70.0
        lines.append(f"{60 * t},{cpu:.3f},{memory:.3f},{disk + rng.standard_normal():.3f},0")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_train_multivariate_from_a_csv_and_list_it(tmp_path: Path) -> None:
    data = _wide_csv(tmp_path / "wide.csv")
    models = str(tmp_path / "models")
    args = ["train", "multivariate", "--data", str(data), "--models", models]
    result = runner.invoke(app, [*args, "--detector", "ecod", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert (info["name"], info["version"], info["family"]) == ("multivariate", 1, "multivariate")
    assert info["detector"] == "ecod" and info["data"]["features"] == ["cpu", "memory", "disk"]
    assert info["data"]["ignored_columns"] == ["label"] and info["training"]["rows"] == 200
    assert (Path(info["path"]) / "model.pkl").is_file()
    second = runner.invoke(app, [*args, "--detector", "autoencoder", "--threshold", "0.5"])
    assert second.exit_code == 0, second.output
    assert "v2 (autoencoder) fitted on 200 rows" in second.output
    listed = runner.invoke(app, ["train", "list", "--models", models, "--json"])
    versions = [(m["version"], m["detector"]) for m in json.loads(listed.output)]
    assert versions == [(1, "ecod"), (2, "autoencoder")]
    table = runner.invoke(app, ["train", "list", "--models", models])
    assert table.exit_code == 0 and "multivariate" in table.output and "flagged" in table.output


def test_train_multivariate_from_a_long_csv(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    lines = ["resource_id,metric,timestamp,value"]
    for node, level in (("web-1", 30.0), ("db-1", 70.0)):
        for t in range(80):
            for metric in ("cpu", "latency_ms"):
                lines.append(f"{node},{metric},{60 * t},{level + rng.standard_normal():.3f}")
    data = tmp_path / "long.csv"
    data.write_text("\n".join(lines) + "\n")
    result = runner.invoke(
        app,
        ["train", "multivariate", "--data", str(data), "--detector", "lof",
         "--models", str(tmp_path / "m"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["data"]["layout"] == "long" and info["data"]["resources"] == 2
    assert info["data"]["features"] == ["cpu", "latency_ms"] and info["training"]["rows"] == 160


def test_train_multivariate_from_a_store(tmp_path: Path) -> None:
    from opsgraph.runtime.root import Runtime
    from opsgraph.runtime.settings import Settings

    settings = Settings(data_dir=tmp_path, sim={"resources": 10, "seed": 2, "preroll_steps": 15})
    runtime = Runtime(settings, demo=True)
    runtime.simulation.start()
    runtime.close()
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = runner.invoke(
        app,
        ["train", "multivariate", "--store", url, "--detector", "iforest",
         "--models", str(tmp_path / "m"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["data"]["source"] == "store" and info["data"]["resources"] == 10
    assert info["data"]["rows"] == 150 and info["config"]["members"] == ["iforest"]


def test_train_multivariate_refuses_bad_input(tmp_path: Path) -> None:
    short = _wide_csv(tmp_path / "short.csv", rows=40)
    result = runner.invoke(app, ["train", "multivariate", "--data", str(short)])
    assert result.exit_code == 2 and "training needs at least 100" in result.output
    both = runner.invoke(
        app, ["train", "multivariate", "--data", str(short), "--store", "sqlite://"]
    )
    assert both.exit_code == 2 and "not both" in both.output
    unknown = runner.invoke(app, ["train", "multivariate", "--detector", "oracle"])
    assert unknown.exit_code == 2 and "oracle" in unknown.output
    from opsgraph.store import Store

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with Store(url) as store:
        store.migrate()
    empty = runner.invoke(
        app,
        ["train", "multivariate", "--store", url,
         "--models", str(tmp_path / "m")],
    )  # fmt: skip
    assert empty.exit_code == 2 and "0 complete rows" in empty.output
    assert not (tmp_path / "m" / "multivariate").exists() or not any(
        (tmp_path / "m" / "multivariate").iterdir()
    )
