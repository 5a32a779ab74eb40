"""`opsgraph bench autoscale` on a synthetic trace laid out like the Azure one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from opsgraph.bench.autoscale import SimulatedGroup, run_autoscale_bench
from opsgraph.cli.main import app
from opsgraph.core.errors import InvalidInputError


def _azure(root: Path, days: int = 18) -> Path:
    """A daily cycle with a steep morning ramp: demand rises fivefold within an hour."""
    folder = root / "azure_vm_cpu_2019"
    folder.mkdir(parents=True)
    ts = np.arange(days * 288) * 300
    hour = (ts % 86_400) / 3_600
    ramp = np.clip(hour - 8, 0, 1) * np.clip(20 - hour, 0, 1)
    rng = np.random.default_rng(3)
    cpu = 100 + 400 * ramp + rng.normal(0, 5, ts.size)
    lines = ["timestamp,cpu_usage,assigned_mem"]
    lines += [f"{t},{c:.3f},1.0" for t, c in zip(ts, cpu, strict=True)]
    (folder / "vm_cpu_readings_month_aggregated_cpu_mem.csv").write_text("\n".join(lines))
    return root


def test_the_group_boots_before_it_serves_and_drops_launches_first() -> None:
    group = SimulatedGroup(boot_s=600.0, running=2)
    group.resize(5, now=0.0)
    assert (group.running, group.total) == (2, 5)
    group.advance(300.0)
    assert group.running == 2
    group.advance(600.0)
    assert (group.running, group.total) == (5, 5)
    group.resize(8, now=900.0)
    group.resize(6, now=1_000.0)  # two of the three launching go
    assert (group.running, group.total) == (5, 6)
    group.resize(3, now=1_100.0)  # the last launch, then two running
    assert (group.running, group.total, group.pending) == (3, 3, [])


def test_forecasts_cut_the_violations_of_a_daily_ramp(tmp_path: Path) -> None:
    data = _azure(tmp_path)
    report = run_autoscale_bench(data, traces=("azure_vm_cpu_2019",), boot_s=1_800.0)
    (trace,) = report["traces"]
    by = {r["policy"]: r for r in trace["results"]}
    assert list(by) == ["predictive + reactive", "reactive, 70 %", "reactive (HPA)", "static peak"]
    assert trace["evaluated_days"] == 4.0
    predictive, reactive = by["predictive + reactive"], by["reactive, 70 %"]
    # With a 30-minute boot, reacting to the ramp is late every morning; the weekly seasonal
    # naive has seen the last two weeks' ramps and launches ahead of them.
    assert reactive["violation_minutes"] >= 4 * 30
    assert predictive["violation_minutes"] <= reactive["violation_minutes"] / 4
    assert by["static peak"]["violation_minutes"] == 0 and by["static peak"]["actions"] <= 1
    assert by["static peak"]["instance_hours"] > predictive["instance_hours"]
    for r in by.values():
        assert r["judged_minutes"] == 4 * 24 * 60
    first = trace["first_decisions"][0]
    assert first["to"] > first["from"] and "forecast q0.9" in first["reason"]


def test_the_command_prints_writes_and_names_bad_input(tmp_path: Path) -> None:
    data = _azure(tmp_path / "traces", days=16)
    out = tmp_path / "a.json"
    args = ["bench", "autoscale", "--data", str(data), "--trace", "azure_vm_cpu_2019"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "predictive" in result.output and "HPA" in result.output
    assert json.loads(out.read_text())["traces"][0]["trace"] == "azure_vm_cpu_2019"
    bad = CliRunner().invoke(app, [*args, "--forecaster", "crystal_ball"])
    assert bad.exit_code != 0 and "crystal_ball" in bad.output
    short = _azure(tmp_path / "short", days=10)
    with pytest.raises(InvalidInputError) as err:
        run_autoscale_bench(short, traces=("azure_vm_cpu_2019",))
    assert err.value.field == "data" and "14 days" in str(err.value)
