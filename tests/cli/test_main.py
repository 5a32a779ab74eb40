"""The command line: help everywhere, config show, topology, and clear errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsgraph.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["demo"],
        ["serve"],
        ["config", "show"],
        ["db", "upgrade"],
        ["sim", "inject"],
        ["sim", "act"],
        ["sim", "topology"],
        ["bench", "ingest"],
        ["bench", "nab"],
        ["bench", "detect"],
        ["bench", "sim-detect"],
        ["bench", "multivariate"],
        ["bench", "calendar"],
        ["bench", "rca"],
        ["rca", "run"],
        ["topology", "validate"],
        ["topology", "load"],
        ["topology", "infer"],
        ["topology", "discover-aws"],
        ["bench", "infer"],
        ["detect", "score"],
        ["detect", "calendar"],
        ["backtest"],
        ["feedback"],
        ["maintenance", "add"],
        ["maintenance", "list"],
        ["maintenance", "delete"],
        ["version"],
        ["train", "gnn"],
        ["train", "list"],
        ["bench", "gnn"],
        ["bench", "remediation"],
    ],
)
def test_every_command_has_help(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_config_show_prints_effective_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPSGRAPH_API__PORT", "9321")
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert "port: 9321" in result.output and "effective_url: sqlite:///" in result.output


def test_bad_config_exits_2(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("sim:\n  resources: -1\n")
    result = runner.invoke(app, ["config", "show", "--config", str(cfg)])
    assert result.exit_code == 2 and "sim.resources" in result.output


def test_db_upgrade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSGRAPH_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "opsgraph.db").exists()


def test_sim_topology(tmp_path: Path) -> None:
    out = tmp_path / "topo.json"
    result = runner.invoke(app, ["sim", "topology", "--resources", "40", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "40 resources" in result.output
    assert len(json.loads(out.read_text())["resources"]) == 40
    result = runner.invoke(app, ["sim", "topology", "--resources", "5"])
    assert result.exit_code == 2 and "resources" in result.output


def test_inject_without_a_server_is_a_clear_error() -> None:
    result = runner.invoke(
        app, ["sim", "inject", "cpu_hog", "--node", "x", "--url", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 2 and "cannot reach" in result.output


def test_a_busy_port_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setenv("OPSGRAPH_DATA_DIR", str(tmp_path))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["demo", "--port", str(port)])
    assert result.exit_code == 2 and f"127.0.0.1:{port}" in result.output


def test_control_commands_without_a_server_exit_2() -> None:
    for args in (
        ["feedback", "1", "false_positive"],
        ["maintenance", "add", "--resource", "db-1", "--for", "60"],
        ["maintenance", "list"],
        ["detect", "calendar", "--upcoming"],
    ):
        result = runner.invoke(app, [*args, "--url", "http://127.0.0.1:9"])
        assert result.exit_code == 2 and "cannot reach" in result.output, args


def test_detect_calendar_asks_the_api(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []

    def fake(method: str, url: str, body: object = None) -> object:
        calls.append((method, url))
        return [{"name": "black-friday", "start_ts": 0, "end_ts": 86400, "multiplier": 3.0}]

    monkeypatch.setattr("opsgraph.cli.detect.call_api", fake)
    result = runner.invoke(app, ["detect", "calendar", "--active", "--url", "http://x:1/"])
    assert result.exit_code == 0, result.output
    assert calls == [("GET", "http://x:1/calendar?active=true")]
    assert "black-friday" in result.output
