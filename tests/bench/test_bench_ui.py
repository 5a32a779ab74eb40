"""`opsgraph bench ui` runs end to end on a tiny demo and writes its figures (no timing asserts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsgraph.cli.main import app

pytestmark = pytest.mark.browser


def test_tiny_ui_bench(tmp_path: Path) -> None:
    out = tmp_path / "ui.json"
    result = CliRunner().invoke(
        app, ["bench", "ui", "--resources", "20", "--loads", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["nodes"] == 20 and report["loads"] == 1
    assert report["first_draw_ms"]["median"] > 0 and report["redraw_ms"]["median"] >= 0
