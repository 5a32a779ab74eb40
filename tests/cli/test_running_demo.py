"""Commands beside a running demo act on that demo; read-only commands never create a store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsgraph.act.policy import SHIPPED_POLICIES
from opsgraph.cli.main import app
from opsgraph.runtime.running import RunningDemo, mark, running_demo, unmark
from opsgraph.store import Store

runner = CliRunner()


def _out(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("OPSGRAPH_DATA_DIR", str(folder))
    monkeypatch.chdir(tmp_path)
    return folder


def test_keys_for_the_demo_go_to_the_store_it_runs_on(data_dir: Path, tmp_path: Path) -> None:
    code, out = _out("keys", "create", "ci", "--demo")
    assert code == 2 and "no `opsgraph demo` is running" in out
    # A demo started on another store (PostgreSQL in the finding; a second file here), beside
    # a stale demo.db of an earlier run.
    (data_dir / "demo.db").write_bytes(b"")
    live = tmp_path / "live.db"
    Store(f"sqlite:///{live}").migrate()
    mark(data_dir, RunningDemo(os.getpid(), f"sqlite:///{live}", "http://127.0.0.1:9", None))
    code, out = _out("keys", "create", "ci", "--demo", "--role", "operator")
    assert code == 0, out
    assert [k.name for k in Store(f"sqlite:///{live}").list_api_keys()] == ["ci"]
    assert (data_dir / "demo.db").read_bytes() == b""
    unmark(data_dir)
    assert running_demo(data_dir) is None


def test_a_marker_left_by_a_killed_demo_is_ignored(data_dir: Path) -> None:
    mark(data_dir, RunningDemo(2**22 + 12345, "sqlite:///x.db", "http://127.0.0.1:9", None))
    assert running_demo(data_dir) is None
    assert oct((data_dir / "demo-running.json").stat().st_mode & 0o777) == "0o600"


def test_policy_list_shows_the_running_demos_policies(data_dir: Path) -> None:
    code, out = _out("policy", "list")
    assert code == 0 and "no automation.policy_dir configured" in out
    mark(
        data_dir,
        RunningDemo(os.getpid(), "sqlite:///x.db", "http://127.0.0.1:9", str(SHIPPED_POLICIES)),
    )
    code, out = _out("policy", "list")
    assert code == 0 and "the running demo's policies" in out and "failover" in out
    unmark(data_dir)


def test_backtest_from_a_missing_store_leaves_nothing_behind(data_dir: Path) -> None:
    code, out = _out("backtest", "--from", "configured")
    assert code == 2 and "no opsgraph database at" in out and "opsgraph db upgrade" in out
    assert list(data_dir.iterdir()) == []
    empty = data_dir / "empty.db"
    empty.write_bytes(b"")
    code, out = _out("backtest", "--from", f"sqlite:///{empty}")
    assert code == 2 and "has no opsgraph tables" in out
