"""The closed loop on a real runtime: a fault on the simulated cloud opens an incident, an auto
policy restarts the root cause through the simulator, and the anomaly clears (verified)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsgraph.runtime.root import Runtime
from opsgraph.runtime.settings import Settings
from opsgraph.sim import FaultKind
from opsgraph.store._automation import ActionStatus

POLICY = """
name: restart-hogs
trigger: {resource_kinds: [ec2]}
actions: [{action: restart_service, target: root}]
mode: auto
"""


@pytest.fixture
def runtime(tmp_path: Path, quick_detect: dict[str, Any]) -> Iterator[Runtime]:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "hogs.yaml").write_text(POLICY)
    settings = Settings(
        data_dir=tmp_path,
        sim={"resources": 30, "seed": 3, "preroll_steps": 40},
        detect=quick_detect,
        automation={"policy_dir": tmp_path / "policies", "tick_s": 0, "backoff_s": 0},
    )
    rt = Runtime(settings, demo=True)
    rt.simulation.start()
    yield rt
    rt.close()


def test_a_fault_is_remediated_through_the_simulator(runtime: Runtime) -> None:
    automation = runtime.automation
    assert runtime.automation is automation  # one per runtime, hooked once
    assert [p.name for p in automation.policies] == ["restart-hogs"]
    sim = runtime.simulation.cloud
    assert sim is not None
    fault = runtime.simulation.inject_fault(FaultKind.CPU_HOG, "cart-ec2-1", duration_s=3000)
    for _ in range(30):
        runtime.simulation.step()
        automation.drain()
    (action,), _ = runtime.store.list_actions()
    assert (action.action, action.target, action.policy) == (
        "restart_service",
        "cart-ec2-1",
        "restart-hogs",
    )
    # The simulator really acted: the restart was accepted, took `sim.action_delay_s` (120 s,
    # two steps) to act, and then cleared the fault, so the metrics recover.
    step = action.result["steps"][-1]
    assert "takes effect in 120 s" in step["message"]
    for _ in range(20):
        runtime.simulation.step()
        automation.tick()
    (record,) = [f for f in sim.faults if f.id == fault.id]
    assert record.cleared_by == "action:restart"
    assert record.cleared_ts is not None
    assert record.cleared_ts >= step["details"]["ts"] + 120
    assert runtime.store.get_action(action.id or 0).status is ActionStatus.SUCCEEDED
    assert action.incident_id is not None
    timeline = runtime.store.incident_timeline(action.incident_id)
    assert any(e.message.endswith("verified: the anomaly cleared") for e in timeline)
    audit = [e.action for e in runtime.store.list_audit(limit=200)[0]]
    assert "sim.restart" in audit and "automation.verify" in audit


def test_the_incident_root_is_the_rankers_and_policies_wait_for_its_confidence(
    runtime: Runtime,
) -> None:
    """The ranker runs on the live path when the incident opens: the incident carries its
    hypotheses and confidence, its timeline says so, and the policy acts on that root."""
    automation = runtime.automation
    runtime.simulation.inject_fault(FaultKind.CPU_HOG, "cart-ec2-1", duration_s=3000)
    for _ in range(30):
        runtime.simulation.step()
        automation.drain()
    incidents, _ = runtime.store.list_incidents()
    ranked = [i for i in incidents if i.root_resource_id == "cart-ec2-1"]
    assert ranked, [(i.root_resource_id, i.root_confidence) for i in incidents]
    incident = ranked[0]
    assert incident.root_confidence is not None and incident.root_confidence >= 0.5
    assert incident.hypotheses[0]["node"] == "cart-ec2-1"
    assert incident.hypotheses[0]["evidence"][0]["metric"] == "cpu"
    assert incident.id is not None
    (event,) = [e for e in runtime.store.incident_timeline(incident.id) if e.kind == "ranked"]
    assert event.payload["root"] == "cart-ec2-1"
    (action,), _ = runtime.store.list_actions()
    assert action.target == "cart-ec2-1"


def test_without_recorded_samples_the_root_is_not_ranked_and_root_policies_wait(
    tmp_path: Path, quick_detect: dict[str, Any]
) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "hogs.yaml").write_text(POLICY)
    settings = Settings(
        data_dir=tmp_path,
        sim={"resources": 30, "seed": 3, "preroll_steps": 40},
        detect=quick_detect,
        store={"persist_samples": False},
        automation={"policy_dir": tmp_path / "policies", "tick_s": 0, "backoff_s": 0},
    )
    rt = Runtime(settings, demo=True)
    try:
        rt.simulation.start()
        automation = rt.automation
        rt.simulation.inject_fault(FaultKind.CPU_HOG, "cart-ec2-1", duration_s=3000)
        for _ in range(30):
            rt.simulation.step()
            automation.drain()
        incidents, _ = rt.store.list_incidents()
        assert incidents and all(i.root_confidence is None for i in incidents)
        assert incidents[0].id is not None
        timeline = rt.store.incident_timeline(incidents[0].id)
        assert any(e.message.startswith("root not ranked (no samples") for e in timeline)
        # The policy acts on the root only when ranked: nothing ran, nothing was planned.
        actions, _ = rt.store.list_actions()
        assert actions == []
    finally:
        rt.close()
