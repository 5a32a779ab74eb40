"""`opsgraph policy validate | list | test` on files, a configured folder and a stored incident."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from opsgraph.cli import policy as cli_policy
from opsgraph.cli.main import app
from opsgraph.core.models import Incident, Resource, ResourceKind
from opsgraph.store import Store

GOOD = """
name: restart-web
trigger: {resource_kinds: [ec2], min_severity: high}
actions: [{action: restart_service, target: root, executor: webhook,
           params: {}}]
"""
SIM = """
name: restart-sim
trigger: {resource_kinds: [ec2]}
actions: [{action: restart_service, target: root}]
mode: auto
"""


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "sim.yaml").write_text(SIM)
    return folder


def test_validate_reports_the_file_and_field(tmp_path: Path, policies: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["policy", "validate", str(policies)])
    assert ok.exit_code == 0, ok.output
    assert "1 valid policy" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: b\nactions: [{action: scale_out, params: {count: many}}]")
    failed = runner.invoke(app, ["policy", "validate", str(bad)])
    assert failed.exit_code == 2
    assert "actions.0" in failed.output and "params.count" in failed.output


def test_list_shows_the_configured_folder(
    policies: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSGRAPH_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    assert "no automation.policy_dir" in runner.invoke(app, ["policy", "list"]).output
    monkeypatch.setenv("OPSGRAPH_AUTOMATION__POLICY_DIR", str(policies))
    listed = runner.invoke(app, ["policy", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [p["name"] for p in json.loads(listed.output)] == ["restart-sim"]


def test_test_shows_what_would_happen_and_executes_nothing(
    policies: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    open_incident: Callable[..., Incident],
) -> None:
    monkeypatch.setenv("OPSGRAPH_DATA_DIR", str(tmp_path))
    store = Store(f"sqlite:///{tmp_path / 'opsgraph.db'}")
    store.migrate()
    store.upsert_topology([Resource(id="web-1", kind=ResourceKind.EC2)], [])
    stored = open_incident(store, "web-1", "cpu", value=99.0, expected=40.0, title="hot")
    incident = stored.id
    runner = CliRunner()
    out = runner.invoke(
        app, ["policy", "test", str(policies), "--incident", str(incident), "--json"]
    )
    assert out.exit_code == 0, out.output
    (decision,) = json.loads(out.output)
    assert (decision["policy"], decision["outcome"], decision["target"]) == (
        "restart-sim",
        "execute",
        "web-1",
    )
    assert decision["steps"] == ["sim restart web-1"]
    assert store.list_actions()[1] == 0 and store.list_audit()[1] == 0
    missing = runner.invoke(app, ["policy", "test", str(policies), "--incident", "99"])
    assert missing.exit_code == 2 and "not found" in missing.output
    store.close()


def test_test_reads_a_running_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSGRAPH_DATA_DIR", str(tmp_path))
    file = tmp_path / "p.yaml"
    file.write_text(GOOD)
    answers: dict[str, Any] = {
        "http://og:8000/incidents/7": {
            "id": 7,
            "title": "hot",
            "status": "open",
            "severity": "medium",
            "opened_ts": 1.0,
            "root_resource_id": "web-1",
            "resource_ids": ["web-1"],
            "anomalies": [],
            "timeline": [],
        },
        "http://og:8000/graph": {
            "ts": 100.0,
            "nodes": [{"id": "web-1", "kind": "ec2", "tags": {}}],
            "edges": [],
        },
    }
    calls: list[str] = []

    def fake_call(method: str, url: str, body: Any = None) -> Any:
        calls.append(f"{method} {url}")
        return answers[url]

    monkeypatch.setattr(cli_policy, "call_api", fake_call)
    out = CliRunner().invoke(
        app,
        ["policy", "test", str(file), "--incident", "7", "--url", "http://og:8000/", "--json"],
    )
    assert out.exit_code == 0, out.output
    (decision,) = json.loads(out.output)
    assert (decision["outcome"], decision["reason"]) == (
        "not_matched",
        "severity medium below high",
    )
    assert calls == ["GET http://og:8000/incidents/7", "GET http://og:8000/graph"]
