"""Tests of /automation: the catalog and policies, manual triggers, pending actions approved or
rejected by operators only, and the paginated audit log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from opsgraph.api import create_app
from opsgraph.core.auth import Role
from opsgraph.core.models import Incident
from opsgraph.runtime.root import Runtime

POLICY = """
name: failover-db
trigger: {resource_kinds: [rds]}
actions: [{action: rds_failover, target: root}]
mode: approval
cooldown_s: 0
"""


@pytest.fixture
def auto(runtime: Runtime, tmp_path: Path, make_key: Callable[[Role], str]) -> Iterator[TestClient]:
    """An admin client over a runtime whose automation has an approval policy."""
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "db.yaml").write_text(POLICY)
    runtime.settings.automation.policy_dir = tmp_path / "policies"
    runtime.settings.automation.tick_s = 0
    key = make_key(Role.ADMIN)
    with TestClient(
        create_app(runtime, run_pipeline=False), headers={"Authorization": f"Bearer {key}"}
    ) as client:
        yield client


def _pending(runtime: Runtime, open_incident: Callable[..., Incident]) -> int:
    """A db incident in the store, judged by the policy: one pending failover; its id."""
    incident = open_incident(
        runtime.store, "db-1", "latency_ms", value=900.0, expected=20.0, title="db slow"
    )
    (decision,) = runtime.automation.evaluate(incident)
    assert decision.record is not None and decision.record.id is not None
    return decision.record.id


def test_catalog_and_policies(auto: TestClient) -> None:
    actions = auto.get("/automation/actions").json()
    by_name = {a["name"]: a for a in actions}
    assert len(by_name) == 12
    assert by_name["scale_out"]["reversible"] is True
    assert "count" in by_name["scale_out"]["params_schema"]["properties"]
    (policy,) = auto.get("/automation/policies").json()
    assert (policy["name"], policy["mode"]) == ("failover-db", "approval")


def test_pending_actions_are_approved_or_rejected(
    auto: TestClient, runtime: Runtime, open_incident: Callable[..., Incident]
) -> None:
    first, second = _pending(runtime, open_incident), _pending(runtime, open_incident)
    page = auto.get("/automation/pending").json()
    assert page["total"] == 2 and {a["id"] for a in page["items"]} == {first, second}
    approved = auto.post(f"/automation/{first}/approve", json={"note": "go ahead"})
    assert approved.status_code == 200 and approved.json()["status"] == "running"
    rejected = auto.post(f"/automation/{second}/reject")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    again = auto.post(f"/automation/{second}/approve")
    assert again.status_code == 409
    runtime.automation.drain()
    done = auto.get(f"/automation/actions/{first}").json()
    assert done["status"] == "verifying"
    assert done["result"]["steps"][0]["message"].startswith("failover of db-1 started")
    assert auto.get("/automation/pending").json()["total"] == 0
    assert auto.post("/automation/999999/approve").status_code == 404


def test_viewers_cannot_approve_reject_or_trigger(
    auto: TestClient,
    runtime: Runtime,
    make_key: Callable[[Role], str],
    open_incident: Callable[..., Incident],
) -> None:
    pending = _pending(runtime, open_incident)
    viewer = {"Authorization": f"Bearer {make_key(Role.VIEWER)}"}
    assert auto.get("/automation/pending", headers=viewer).status_code == 200
    for path in (f"/automation/{pending}/approve", f"/automation/{pending}/reject"):
        denied = auto.post(path, headers=viewer)
        assert denied.status_code == 403
    body = {"action": "notify", "params": {"message": "hi"}}
    assert auto.post("/automation/trigger", json=body, headers=viewer).status_code == 403
    operator = {"Authorization": f"Bearer {make_key(Role.OPERATOR)}"}
    assert auto.post(f"/automation/{pending}/reject", headers=operator).status_code == 200


def test_manual_trigger_dry_run_and_real(auto: TestClient, runtime: Runtime) -> None:
    sim = runtime.simulation.cloud
    assert sim is not None
    group = next(r.id for r in sim.resources if r.kind.value == "asg")
    before = sim.desired_capacity(group)
    body = {"action": "scale_out", "target": group, "params": {"count": 1}, "dry_run": True}
    dry = auto.post("/automation/trigger", json=body)
    assert dry.status_code == 202 and dry.json()["status"] == "dry_run"
    assert dry.json()["result"]["plan"] == [f"sim scale_out {group} {{'count': 1}}"]
    real = auto.post("/automation/trigger", json=body | {"dry_run": False, "key": "once"})
    repeat = auto.post("/automation/trigger", json=body | {"dry_run": False, "key": "once"})
    assert repeat.json()["id"] == real.json()["id"]
    runtime.automation.drain()
    # Accepted at once, in effect after `sim.action_delay_s` (two steps).
    assert sim.desired_capacity(group) == before
    for _ in range(3):
        runtime.simulation.step()
    assert sim.desired_capacity(group) == before + 1
    assert auto.get(f"/automation/actions/{real.json()['id']}").json()["status"] == "succeeded"
    bad = auto.post("/automation/trigger", json=body | {"params": {"count": 0}})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "params.count"
    unknown = auto.post("/automation/trigger", json={"action": "reboot_instance", "target": "nope"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "target"


def test_logs_are_paginated(
    auto: TestClient, runtime: Runtime, open_incident: Callable[..., Incident]
) -> None:
    for _ in range(3):
        _pending(runtime, open_incident)
    page = auto.get("/automation/logs", params={"limit": 2}).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert {e["action"] for e in page["items"]} == {"automation.pending"}
    rest = auto.get("/automation/logs", params={"limit": 2, "offset": 2}).json()
    assert len(rest["items"]) == 1
    assert rest["items"][0]["inputs"]["policy"] == "failover-db"


def test_policies_reload_keeps_the_old_set_on_error(
    auto: TestClient, runtime: Runtime, make_key: Callable[[Role], str]
) -> None:
    folder = runtime.settings.automation.policy_dir
    assert folder is not None
    (folder / "more.yaml").write_text("name: tell\nactions: [{action: notify}]")
    operator = {"Authorization": f"Bearer {make_key(Role.OPERATOR)}"}
    assert auto.post("/automation/policies/reload", headers=operator).status_code == 403
    reloaded = auto.post("/automation/policies/reload")
    assert reloaded.status_code == 200
    assert [p["name"] for p in reloaded.json()] == ["failover-db", "tell"]
    (folder / "more.yaml").write_text("name: tell\nactions: [{action: nope}]")
    bad = auto.post("/automation/policies/reload")
    assert bad.status_code == 422 and "more.yaml" in bad.json()["detail"]
    assert [p["name"] for p in auto.get("/automation/policies").json()] == ["failover-db", "tell"]
    audit = runtime.store.list_automation_audit()[0]
    assert audit[0].action == "automation.policies.reload"
