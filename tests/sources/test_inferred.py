"""Dependencies inferred from metrics: linked where changes move together, marked inferred."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from opsgraph.bench.infer import run_infer_bench
from opsgraph.cli.main import app
from opsgraph.sources.inferred import infer_edges

runner = CliRunner()


def _chain(rows: int = 300, seed: int = 0) -> tuple[list[str], list[str], np.ndarray]:
    """lb -> api (one row later) and an unrelated batch job; request counts only."""
    rng = np.random.default_rng(seed)
    lb = 1000 + np.cumsum(rng.normal(0, 10, rows))
    api = np.roll(lb, 1) * 0.8 + rng.normal(0, 2, rows)
    batch = 300 + np.cumsum(rng.normal(0, 10, rows))
    values = np.stack([lb, api, batch], axis=1)
    return ["lb", "api", "batch"], ["request_count"] * 3, values


def test_a_follower_is_linked_to_its_leader_and_nothing_else() -> None:
    nodes, metrics, values = _chain()
    edges = infer_edges(nodes, metrics, values)
    assert [(e.source, e.target, e.lag, e.metric) for e in edges] == [
        ("lb", "api", 1, "request_count")
    ]
    assert edges[0].correlation > 0.8
    dep = edges[0].dependency()
    assert dep.inferred is True and dep.source == "lb" and dep.target == "api"


def test_too_few_rows() -> None:
    nodes, metrics, values = _chain(rows=8)
    with pytest.raises(ValueError, match="at least 13 rows"):
        infer_edges(nodes, metrics, values)


def test_simulated_topology_is_recovered_better_than_chance() -> None:
    report = run_infer_bench(resources=20, steps=300, per_node=(3,))
    result = report["results"][0]
    assert result["precision"] > 2 * report["chance_precision"]
    assert 0 < result["recall"] <= 1


def test_cli_infer_writes_an_edge_list_for_rca(tmp_path: Path) -> None:
    _, _, values = _chain()
    lines = ["time,lb_request_count,api_request_count,batch_request_count"]
    lines += [",".join([str(i), *map(repr, row.tolist())]) for i, row in enumerate(values)]
    path = tmp_path / "m.csv"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "edges.csv"
    result = runner.invoke(app, ["topology", "infer", "--metrics", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "lb -> api" in result.output and "leads by 1 row" in result.output
    assert out.read_text() == "source,target,kind\nlb,api,calls\n"
    short = tmp_path / "short.csv"
    short.write_text("\n".join(lines[:6]) + "\n")
    result = runner.invoke(app, ["topology", "infer", "--metrics", str(short)])
    assert result.exit_code == 2 and "at least 13 rows" in result.output
