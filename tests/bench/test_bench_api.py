"""`opsgraph bench api` runs a real server through every phase and writes its JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsgraph.bench.api import ApiBenchConfig, run_api_bench
from opsgraph.bench.api_load import Plan
from opsgraph.cli.main import app
from opsgraph.core.errors import InvalidInputError

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TINY = [
    "--resources", "12", "--signals", "3", "--batch", "36", "--concurrency", "2",
    "--rate", "2000", "--warmup", "0.5", "--duration", "1", "--remote-write-duration", "0.5",
    "--ws-clients", "4", "--ws-events", "2", "--deep-points", "400",
]  # fmt: skip


def test_tiny_run_writes_every_phase(tmp_path: Path) -> None:
    out = tmp_path / "api.json"
    result = CliRunner().invoke(app, ["bench", "api", *TINY, "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["benchmark"] == "api" and report["config"]["store"] == "sqlite"
    for phase in ("warmup", "ingest_json", "remote_write_warmup", "remote_write"):
        row = report[phase]
        assert row["failures"] == {} and row["samples_accepted"] > 0, row
        assert row["samples_accepted"] == row["samples_sent"]
        assert set(row["latency_ms"]) == {"p50", "p95", "p99", "max"}
    ws = report["websocket"]
    assert ws["events"] == 2 and ws["deliveries"] == 2 * 4 and ws["missed"] == 0
    deep = report["deep_batch"]
    assert deep["points"] == deep["accepted"] == 400 and deep["health_ms_meanwhile"]["max"] > 0
    check = report["integrity"]
    assert check["ok"] and check["missing"] == 0 and check["extra"] == 0
    assert check["samples_stored"] == check["samples_sent_and_accepted"] == check["samples_scored"]
    assert report["server_errors"] == []
    assert "nothing lost" in result.output


@pytest.mark.postgres
def test_postgresql_store(tmp_path: Path) -> None:
    cfg = ApiBenchConfig(
        resources=8, signals=2, batch=16, concurrency=1, rate=1000, warmup_s=0, duration_s=0.5,
        remote_write_s=0, ws_clients=2, ws_events=1, ws_background_rate=0, deep_points=0,
        store_url=PG,
    )  # fmt: skip
    report = run_api_bench(cfg)
    assert report["config"]["store"] == "postgresql" and report["config"]["store_url"] is None
    assert report["remote_write"] == {"skipped": "duration 0"}
    assert report["integrity"]["ok"], report["integrity"]
    assert "background_ingest" not in report["websocket"] and "warmup" not in report


def test_bad_settings_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="signals"):
        run_api_bench(ApiBenchConfig(signals=9))
    with pytest.raises(InvalidInputError, match="store_url"):
        run_api_bench(ApiBenchConfig(store_url="sqlite:///x.db"))


def test_plan_counts_what_batches_hold() -> None:
    plan = Plan(["a", "b"], ["cpu", "memory"], batch=3, start_ts=100.0, step_s=10.0)
    series, ts, _values = plan.columns(1)  # positions 3, 4, 5
    assert series.tolist() == [3, 0, 1] and ts.tolist() == [100.0, 110.0, 110.0]
    assert plan.counts([0, 1]).tolist() == [2, 2, 1, 1]
    assert plan.last_ts([0, 1]) == 110.0 and plan.last_ts([]) is None
    body = json.loads(plan.json_body(0))["samples"]
    assert body[0] == {"resource_id": "a", "metric": "cpu", "ts": 100.0, "value": body[0]["value"]}
    assert all(v["value"] >= 0 for v in body)
