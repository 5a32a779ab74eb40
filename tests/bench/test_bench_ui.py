"""`opsgraph bench ui` runs end to end on a tiny demo and a small alerts store and writes its
figures (no timing asserts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsgraph.cli.main import app


@pytest.mark.browser
def test_tiny_ui_bench(tmp_path: Path) -> None:
    out = tmp_path / "ui.json"
    args = ["bench", "ui", "--resources", "20", "--loads", "1", "--anomalies", "500"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["nodes"] == 20 and report["loads"] == 1
    assert report["first_draw_ms"]["median"] > 0 and report["redraw_ms"]["median"] >= 0
    assert report["alerts_page"]["anomalies"] == 500


def test_alerts_page_figure_alone(tmp_path: Path) -> None:
    out = tmp_path / "ui.json"
    args = ["bench", "ui", "--no-dashboard", "--anomalies", "2000", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "deep page by cursor" in result.output
    figure = json.loads(out.read_text())["alerts_page"]
    assert figure["anomalies"] == 2000 and figure["limit"] == 50
    for name in ("first_page", "deep_page_cursor", "first_page_open", "deep_page_offset"):
        assert figure["ms"][name]["p95"] >= figure["ms"][name]["p50"] > 0
    assert figure["deep_page_position"] > 1000
    nothing = CliRunner().invoke(app, ["bench", "ui", "--no-dashboard", "--anomalies", "0"])
    assert nothing.exit_code != 0
