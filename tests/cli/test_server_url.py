"""Commands that call a running server find it where the configuration puts it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsgraph.cli.common import server_url
from opsgraph.cli.main import app


def test_the_url_follows_flag_then_env_then_configured_port(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OPSGRAPH_URL", raising=False)
    monkeypatch.setenv("OPSGRAPH_API__PORT", "8123")
    assert server_url(None) == "http://127.0.0.1:8123"
    monkeypatch.setenv("OPSGRAPH_API__HOST", "0.0.0.0")  # listening everywhere: call loopback
    assert server_url(None) == "http://127.0.0.1:8123"
    monkeypatch.setenv("OPSGRAPH_URL", "https://ops.example.com")
    assert server_url(None) == "https://ops.example.com"
    assert server_url("http://10.0.0.5:9000") == "http://10.0.0.5:9000"


def test_a_command_calls_the_configured_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSGRAPH_URL", raising=False)
    monkeypatch.setenv("OPSGRAPH_API__PORT", "1")  # nothing listens there
    result = CliRunner().invoke(app, ["maintenance", "list"])
    assert result.exit_code == 2 and "127.0.0.1:1/maintenance" in " ".join(result.output.split())
