"""`opsgraph bench remediation` on a small run: the closed loop cures what it can, within the
policies' bounds, and a process killed at random points never executes an action twice."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from opsgraph.act.policy import load_policies
from opsgraph.bench.remediation import POLICIES, remediable, run_remediation_bench
from opsgraph.bench.remediation_crash import run_crash_test
from opsgraph.cli.main import app
from opsgraph.sim import FaultKind


def test_the_shipped_policies_load_and_act_on_their_own() -> None:
    policies = load_policies(POLICIES)
    assert {p.name for p in policies} >= {"restart-saturated", "rollback-erroring"}
    assert all(p.mode.value == "auto" for p in policies)


def test_remediable_follows_the_simulator_tables() -> None:
    assert remediable(FaultKind.MEMORY_LEAK, "ec2")
    assert remediable(FaultKind.DEPENDENCY_OUTAGE, "rds")
    assert not remediable(FaultKind.DEPENDENCY_OUTAGE, "s3")
    assert not remediable(FaultKind.DISK_FULL, "ec2")


def test_small_run_cures_faults_within_bounds() -> None:
    report = run_remediation_bench(resources=40, seeds=(1,), incidents=16, episode_steps=30)
    s = report["summary"]
    assert s["incidents"] == 16 and set(s["by_kind"]) == {k.value for k in FaultKind}
    assert s["out_of_bounds"] == 0, s["out_of_bounds_detail"]
    assert s["remediable"] > 0 and s["auto_resolved"] > 0
    assert s["mttr_remediable_with_s"] < s["mttr_remediable_without_s"]
    # The live path ranked the incidents' roots, and the ranking is right more often than not.
    live = s["live_root"]
    assert live["ranked"] > 0 and live["ranked"] <= live["faults_with_incident"]
    assert live["top1"] is not None and live["top1"] >= 0.5
    with_, without = report["episodes"]["with"], report["episodes"]["without"]
    # The schedule is the same in both runs; only the remediated run has faults cured by actions.
    assert [(e["kind"], e["root"]) for e in with_] == [(e["kind"], e["root"]) for e in without]
    assert not any(e["cleared_by"].startswith("action:") for e in without)
    assert any(e["cleared_by"].startswith("action:") for e in with_)
    # An expired certificate looks like a misconfiguration, but nothing changed on its node:
    # the rollback policy (trigger.changed_within_s) leaves it alone.
    expired = [e for e in with_ if e["kind"] == "certificate_expiry"]
    assert expired and not any(a.startswith("rollback:") for e in expired for a in e["actions"])


def test_killed_and_restarted_never_executes_twice() -> None:
    crash = run_crash_test(kills=3, steps=500, fault_every=15, max_run_s=1.5)
    assert crash["kills"] == 3 and crash["starts"] == 4
    assert crash["executions"] > 0
    assert crash["duplicate_executions"] == 0
    assert crash["executed_without_record"] == []


def test_cli_prints_the_table_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "rem.json"
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "remediation",
            "--incidents=9",
            "--seed=2",
            "--resources=30",
            "--episode-steps=25",
            "--kills=0",
            f"--out={out}",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "outside a policy bound: 0" in result.output
    report = json.loads(out.read_text())
    assert report["summary"]["incidents"] == 9 and "crash" not in report


def test_an_action_that_cannot_cure_its_fault_is_counted_unsafe() -> None:
    from opsgraph.bench.remediation import _unsafe
    from opsgraph.sim import FaultRecord

    fault = FaultRecord.model_validate(
        {
            "id": "f1",
            "kind": "cpu_hog",
            "root": "web-1",
            "start_ts": 0.0,
            "end_ts": 600.0,
            "affected": ["web-1"],
            "params": {},
        }
    )
    kinds = {"web-1": "ec2", "db-1": "rds", "grp": "asg"}
    assert _unsafe("restart_service", "web-1", fault, kinds) is None
    assert _unsafe("rds_failover", "db-1", fault, kinds) == (
        "rds_failover on db-1: the fault (cpu_hog) is on web-1"
    )
    assert _unsafe("rollback", "web-1", fault, kinds) == "rollback on web-1: cannot cure cpu_hog"
