"""`opsgraph bench forecast` on a small synthetic trace laid out like the real ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from opsgraph.bench.forecast import load_trace, run_forecast_bench
from opsgraph.cli.main import app
from opsgraph.core.errors import InvalidInputError


def _azure(root: Path, days: int = 12) -> Path:
    folder = root / "azure_vm_cpu_2019"
    folder.mkdir(parents=True)
    ts = np.arange(days * 288) * 300
    rng = np.random.default_rng(5)
    cpu = 100 + 20 * np.sin(2 * np.pi * ts / 86_400) + rng.normal(0, 2, ts.size)
    lines = ["timestamp,cpu_usage,assigned_mem"]
    lines += [f"{t},{c:.3f},1.0" for t, c in zip(ts, cpu, strict=True)]
    (folder / "vm_cpu_readings_month_aggregated_cpu_mem.csv").write_text("\n".join(lines))
    return root


def test_the_bench_scores_every_forecaster(tmp_path: Path) -> None:
    data = _azure(tmp_path)
    report = run_forecast_bench(data, traces=("azure_vm_cpu_2019",), days=2)
    results = report["traces"][0]["results"]
    assert [r["forecaster"] for r in results] == [
        "naive",
        "seasonal_naive",
        "seasonal_naive_weekly",
        "holt_winters",
        "seasonal_profile",
    ]
    for r in results:
        assert r["test_points"] == 2 * 288
        assert np.isfinite(r["mase"]) and 0.0 <= r["coverage_80"] <= 1.0
    best = {r["forecaster"]: r["mase"] for r in results}
    assert best["seasonal_naive"] < best["naive"]


def test_the_command_prints_and_writes(tmp_path: Path) -> None:
    data = _azure(tmp_path / "traces")
    out = tmp_path / "f.json"
    args = ["bench", "forecast", "--data", str(data), "--days", "1"]
    args += ["--trace", "azure_vm_cpu_2019", "--forecaster", "naive", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "naive" in result.output
    assert json.loads(out.read_text())["traces"][0]["results"][0]["forecaster"] == "naive"
    missing = CliRunner().invoke(app, [*args[:4], "--trace", "nasa_http_1995"])
    assert missing.exit_code != 0
    assert "nasa_requests_1min.csv" in missing.output
    with pytest.raises(InvalidInputError) as err:
        load_trace(data, "bitbrains_rnd")
    assert err.value.field == "data"
