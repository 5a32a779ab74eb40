"""`opsgraph users` and `opsgraph keys` on a store of their own."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsgraph.cli.main import app


def test_keys_and_users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSGRAPH_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    made = runner.invoke(app, ["keys", "create", "prometheus", "--role", "operator"])
    assert made.exit_code == 0, made.output
    key = made.output.strip().splitlines()[-1]
    assert key.startswith("og_")
    listed = runner.invoke(app, ["keys", "list", "--json"])
    assert "prometheus" in listed.output and key not in listed.output
    assert runner.invoke(app, ["keys", "revoke", "1"]).exit_code == 0
    assert runner.invoke(app, ["keys", "revoke", "99"]).exit_code == 2
    user = runner.invoke(app, ["users", "create", "olga", "--role", "operator", "--password", "x"])
    assert user.exit_code == 2 and "password" in user.output
    ok = ["users", "create", "olga", "--role", "operator", "--password", "long enough"]
    assert runner.invoke(app, ok).exit_code == 0
    assert "olga" in runner.invoke(app, ["users", "list"]).output
