"""A real estate's graph model learns from the estate's own samples: graph windows read from
the store on one sampling grid, with its dependency graph, and `train gnn --from-store`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from opsgraph.cli.main import app
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Dependency, Resource
from opsgraph.runtime.graph_history import recorded_span_s, recorded_windows
from opsgraph.store import Store

T0 = 1_750_000_000.0
NODES = ["web-1", "app-1", "db-1"]
DEPS = [Dependency(source="web-1", target="app-1"), Dependency(source="app-1", target="db-1")]


def _store(path: Path, steps: int) -> Store:
    """Three resources, two signals each, a sample a minute with a few seconds of scrape
    jitter per series (no two series share a timestamp)."""
    store = Store(f"sqlite:///{path}")
    store.migrate()
    store.upsert_topology([Resource(id=n) for n in NODES], DEPS)
    keys = [(n, m) for n in NODES for m in ("cpu", "latency_ms")]
    ids = store.ensure_series(keys)
    rng = np.random.default_rng(1)
    for j, sid in enumerate(ids):
        ts = T0 + 60.0 * np.arange(steps) + (j + 1) * 1.7
        values = 40 + rng.standard_normal(steps)
        store.write_batch(series_ids=np.full(steps, sid), ts=ts, values=values)
    return store


def test_samples_of_every_series_land_on_one_grid_with_the_graph(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db", steps=60)
    try:
        assert recorded_span_s(store) == pytest.approx(59 * 60 + 5 * 1.7)
        windows, info = recorded_windows(store, store.list_dependencies())
    finally:
        store.close()
    assert info["source"] == "store" and info["nodes"] == 3 and info["series"] == 6
    assert info["rows"] == 60 and info["step_s"] == pytest.approx(60.0)
    assert info["edges"] == 2 and len(windows) == info["windows"] == 9
    cube = windows[-1].values
    assert np.isfinite(cube[:, :, 0]).all()  # cpu of every node in every row: nothing lost


def test_too_little_history_says_so(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db", steps=10)
    try:
        with pytest.raises(InvalidInputError, match="needs at least 20 sampling steps"):
            recorded_windows(store, DEPS)
    finally:
        store.close()
    empty = Store(f"sqlite:///{tmp_path / 'e.db'}")
    empty.migrate()
    try:
        assert recorded_span_s(empty) == 0.0
        with pytest.raises(InvalidInputError, match="no samples recorded yet"):
            recorded_windows(empty, [])
    finally:
        empty.close()


def test_train_gnn_from_the_store(tmp_path: Path) -> None:
    _store(tmp_path / "s.db", steps=60).close()
    models = tmp_path / "models"
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["train", "gnn", "--mode", "self-supervised", "--from-store", "--store",
         f"sqlite:///{tmp_path / 's.db'}", "--epochs", "3", "--incidents", "4",
         "--models", str(models), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["name"] == "graph_deviation"
    assert info["data"]["source"] == "store" and info["data"]["nodes"] == 3
    supervised = runner.invoke(app, ["train", "gnn", "--from-store"])
    assert supervised.exit_code == 2 and "self-supervised" in supervised.output
    stray = runner.invoke(
        app, ["train", "gnn", "--mode", "self-supervised", "--store", "sqlite:///x.db"]
    )
    assert stray.exit_code == 2 and "--store goes with --from-store" in stray.output
