"""Tests of the automation engine: modes, guardrail refusals on record, approval and expiry,
idempotency across restarts, retries and time-outs, verification and rollback, audit."""

from __future__ import annotations

import time
from typing import Any

import pytest

from opsgraph.act.guardrails import SETTLE_S
from opsgraph.core.errors import ConflictError, InvalidInputError
from opsgraph.core.models import Dependency, IncidentStatus, Severity
from opsgraph.store import Store
from opsgraph.store._automation import ActionStatus, AutomationAction

from .conftest import (
    Clock,
    MakeAutomation,
    Recorder,
    add_incident,
    clear_anomalies,
    policy,
)

AUTO = """
name: restart-hot
trigger: {metrics: [cpu]}
actions: [{action: restart_service, target: root}]
mode: auto
"""


def _statuses(store: Store) -> list[tuple[str, ActionStatus]]:
    items, _ = store.list_actions()
    return [(a.action, a.status) for a in reversed(items)]


def test_dry_run_is_the_default_and_executes_nothing(
    store: Store, make_automation: MakeAutomation, recorder: Recorder
) -> None:
    p = policy("name: p\nactions: [{action: restart_service}]")
    automation = make_automation(p)
    incident = add_incident(store, "i1")
    (decision,) = automation.evaluate(incident)
    assert p.mode.value == "dry_run"
    assert (decision.outcome, decision.target, decision.steps) == (
        "dry_run",
        "i1",
        ["fake restart_service i1"],
    )
    assert recorder.executed == []
    assert _statuses(store) == [("restart_service", ActionStatus.DRY_RUN)]
    (audit,), _ = store.list_automation_audit()
    assert (audit.action, audit.target, audit.inputs["policy"]) == ("automation.dry_run", "i1", "p")


def test_auto_executes_once_then_verifies_when_the_anomaly_clears(
    store: Store,
    make_automation: MakeAutomation,
    recorder: Recorder,
    messages: list[tuple[str, Any]],
) -> None:
    automation = make_automation(policy(AUTO))
    incident = add_incident(store, "i2")
    assert incident.id is not None
    automation.on_incident(incident, "opened")
    automation.on_incident(incident, "grouped")  # the same incident again: not a second run
    automation.drain()
    assert [(r.action, r.target) for r in recorder.executed] == [("restart_service", "i2")]
    assert _statuses(store) == [("restart_service", ActionStatus.VERIFYING)]
    automation.tick()
    assert _statuses(store) == [("restart_service", ActionStatus.VERIFYING)]
    clear_anomalies(store, incident.id)
    automation.tick()
    assert _statuses(store) == [("restart_service", ActionStatus.SUCCEEDED)]
    kinds = [e.action for e in reversed(store.list_automation_audit()[0])]
    assert kinds == ["automation.plan", "automation.execute", "automation.verify"]
    assert {t for t, _ in messages} == {"automation:log"}
    timeline = [e.message for e in store.incident_timeline(incident.id) if e.kind == "automation"]
    assert timeline[-1] == "restart_service on i2 verified: the anomaly cleared"


def test_failed_verification_rolls_back_and_escalates(
    store: Store, make_automation: MakeAutomation, recorder: Recorder, clock: Clock
) -> None:
    p = policy(
        "name: scale\nactions: [{action: scale_out, target: group, params: {count: 1}}]\nmode: auto"
    )
    automation = make_automation(p, verify_window_s=300)
    incident = add_incident(store, "i3")
    automation.evaluate(incident)
    automation.drain()
    clock.now += 301  # the window passes with the anomaly still open
    automation.tick()
    automation.drain()
    assert [(r.action, r.target, r.params) for r in recorder.executed] == [
        ("scale_out", "grp", {"count": 1}),
        ("scale_in", "grp", {"count": 1}),
    ]
    assert _statuses(store) == [
        ("scale_out", ActionStatus.FAILED),
        ("scale_in", ActionStatus.SUCCEEDED),
    ]
    kinds = [e.action for e in reversed(store.list_automation_audit()[0])]
    assert kinds[-3:] == ["automation.verify", "automation.escalate", "automation.rollback"]


def test_approval_mode_waits_then_executes_on_approval(
    store: Store, make_automation: MakeAutomation, recorder: Recorder
) -> None:
    p = policy("name: ask\nactions: [{action: rds_failover}]\nmode: approval")
    automation = make_automation(p)
    (decision,) = automation.evaluate(add_incident(store, "db"))
    assert decision.outcome == "pending" and decision.record is not None
    assert decision.record.id is not None
    assert recorder.executed == []
    # the approver sees what it was decided on
    evidence = store.get_action(decision.record.id).result["evidence"]
    assert evidence["root"] == "db" and evidence["dominant"] == "db/cpu"
    assert evidence["severity"] == "high" and evidence["incident_status"] == "open"
    automation.approve(decision.record.id, actor="alice", note="go")
    automation.drain()
    assert [r.action for r in recorder.executed] == ["rds_failover"]
    with pytest.raises(ConflictError, match="not pending"):
        automation.reject(decision.record.id, actor="bob")
    approvals = store.list_automation_audit()[0]
    assert any(e.action == "automation.approve" and e.actor == "alice" for e in approvals)


def test_an_approval_after_the_incident_resolved_runs_nothing(
    store: Store, make_automation: MakeAutomation, recorder: Recorder
) -> None:
    p = policy("name: ask\nactions: [{action: rds_failover}]\nmode: approval")
    automation = make_automation(p)
    incident = add_incident(store, "db")
    (decision,) = automation.evaluate(incident)
    assert decision.record is not None and decision.record.id is not None
    incident.status, incident.resolved_ts = IncidentStatus.RESOLVED, incident.opened_ts + 60
    store.update_incident(incident)  # it cleared on its own
    with pytest.raises(ConflictError, match=r"not executed: incident #\d+ resolved"):
        automation.approve(decision.record.id, actor="alice", note="go")
    automation.drain()
    assert recorder.calls == 0
    saved = store.get_action(decision.record.id)
    assert saved.status is ActionStatus.CANCELLED and "resolved" in saved.result["cancelled"]
    audit = store.list_automation_audit()[0]
    assert any(e.action == "automation.cancel" and "alice" in e.reason for e in audit)


def test_an_approval_after_the_conditions_stopped_holding_runs_nothing(
    store: Store, make_automation: MakeAutomation, recorder: Recorder
) -> None:
    p = policy(
        "name: ask\nactions: [{action: rds_failover}]\nmode: approval\n"
        "trigger: {min_severity: high}"
    )
    automation = make_automation(p)
    incident = add_incident(store, "db")
    (decision,) = automation.evaluate(incident)
    assert decision.record is not None and decision.record.id is not None
    incident.severity = Severity.MEDIUM  # what it was planned for is gone
    store.update_incident(incident)
    with pytest.raises(ConflictError, match="policy ask no longer applies: severity medium"):
        automation.approve(decision.record.id, actor="alice")
    assert recorder.calls == 0


def test_rejected_and_expired_actions_never_execute(
    store: Store, make_automation: MakeAutomation, recorder: Recorder
) -> None:
    p = policy("name: ask\nactions: [{action: rds_failover}]\nmode: approval\ncooldown_s: 0")
    automation = make_automation(p, approval_ttl_s=60)
    (first,) = automation.evaluate(add_incident(store, "db"))
    assert first.record is not None and first.record.id is not None
    automation.tick()
    assert store.get_action(first.record.id).status is ActionStatus.PENDING
    store.update_action(first.record.id, expires_ts=time.time() - 1)  # its TTL has passed
    automation.tick()
    assert store.get_action(first.record.id).status is ActionStatus.EXPIRED
    with pytest.raises(ConflictError):
        automation.approve(first.record.id, actor="alice")
    other = make_automation(p)
    (second,) = other.evaluate(add_incident(store, "db"))
    assert second.record is not None and second.record.id is not None
    other.reject(second.record.id, actor="bob", note="not now")
    assert store.get_action(second.record.id).status is ActionStatus.REJECTED
    assert recorder.executed == []


def test_guardrail_refusals_are_recorded_with_their_reason(
    store: Store, make_automation: MakeAutomation, recorder: Recorder
) -> None:
    p = policy(
        "name: reb\nactions: [{action: reboot_instance}]\nmode: auto\n"
        "blast_radius: {max_percent: 50}\ncooldown_s: 0"
    )
    automation = make_automation(p)
    for node in ("i0", "i1"):
        automation.evaluate(add_incident(store, node))
    (third,) = automation.evaluate(add_incident(store, "i2"))
    automation.drain()
    assert third.outcome == "refused"
    assert third.reason.startswith("blast radius: acting on i2 would touch 75% of its group")
    assert [r.target for r in recorder.executed] == ["i0", "i1"]
    (stopped,) = automation.evaluate(add_incident(store, "off"))
    assert stopped.reason == "reboot_instance needs state running; off is stopped"
    refusals = [e for e in store.list_automation_audit()[0] if e.action == "automation.refuse"]
    assert len(refusals) == 2


def test_no_action_on_a_caller_of_another_open_incidents_root(
    store: Store, make_automation: MakeAutomation, recorder: Recorder
) -> None:
    """i1 calls db: while db's outage is an open incident of its own, i1's errors are that
    incident's symptom, and rolling i1 back would treat the symptom."""
    store.upsert_topology([], [Dependency(source="i1", target="db")])
    automation = make_automation(
        policy("name: rb\nactions: [{action: rollback}]\nmode: auto\ncooldown_s: 0")
    )
    outage = add_incident(store, "db", metric="error_rate")
    (decision,) = automation.evaluate(add_incident(store, "i1", metric="error_rate"))
    assert decision.outcome == "refused"
    assert decision.reason == (
        f"i1 depends on db, the root of open incident #{outage.id}: "
        "its trouble is likely that incident's"
    )
    assert recorder.executed == []
    # Once the database's incident is resolved, i1's own trouble may be acted on.
    assert outage.id is not None
    store.update_incident(outage.model_copy(update={"status": IncidentStatus.RESOLVED}))
    (again,) = automation.evaluate(add_incident(store, "i1", metric="error_rate"))
    automation.drain()
    assert again.outcome == "execute" and [r.target for r in recorder.executed] == ["i1"]


def test_no_action_on_a_caller_while_its_callee_settles_after_an_action(
    store: Store, make_automation: MakeAutomation, recorder: Recorder, clock: Clock
) -> None:
    """i2 was just rolled back (its incident already resolved): i1, which calls it, may still
    be recovering; acting on i1 waits SETTLE_S of data time."""
    store.upsert_topology([], [Dependency(source="i1", target="i2")])
    automation = make_automation(
        policy("name: rb\nactions: [{action: rollback}]\nmode: auto\ncooldown_s: 0")
    )
    fixed = add_incident(store, "i2", metric="error_rate")
    automation.evaluate(fixed)
    automation.drain()
    assert [r.target for r in recorder.executed] == ["i2"]
    assert fixed.id is not None
    store.update_incident(fixed.model_copy(update={"status": IncidentStatus.RESOLVED}))
    (decision,) = automation.evaluate(add_incident(store, "i1", metric="error_rate"))
    assert decision.outcome == "refused"
    assert decision.reason.startswith("i1 depends on i2, acted on 0s ago (rollback): waiting")
    clock.now += SETTLE_S + 1
    (later,) = automation.evaluate(add_incident(store, "i1", metric="error_rate"))
    assert later.outcome == "execute"


def test_a_restart_never_executes_a_claimed_action_twice(
    store: Store, make_automation: MakeAutomation, recorder: Recorder
) -> None:
    incident = add_incident(store, "i1")
    key = f"policy:restart-hot:incident:{incident.id}:step:0:i1"
    # A crash after the key was stored and before the outcome: the row says running, and its
    # run deadline has passed. Another replica's live run (deadline ahead) is left alone.
    live = store.claim_action(
        AutomationAction(
            key="other-replica",
            ts=0.0,
            action="notify",
            executor="notify",
            mode="auto",
            status=ActionStatus.RUNNING,
            expires_ts=time.time() + 600,
        )
    )
    store.claim_action(
        AutomationAction(
            expires_ts=time.time() - 1,
            key=key,
            ts=0.0,
            policy="restart-hot",
            action="restart_service",
            target="i1",
            executor="fake",
            mode="auto",
            status=ActionStatus.RUNNING,
            incident_id=incident.id,
        )
    )
    automation = make_automation(policy(AUTO))
    automation.recover()
    (decision,) = automation.evaluate(incident)
    automation.drain()
    assert decision.outcome == "skipped"
    assert recorder.executed == []
    found = store.find_action(key)
    assert found is not None and found.status is ActionStatus.ESCALATED
    assert "outcome unknown" in found.result["error"]
    assert live is not None and store.get_action(live.id or 0).status is ActionStatus.RUNNING


def test_executor_errors_are_retried_then_escalated(
    store: Store, make_automation: MakeAutomation, recorder: Recorder
) -> None:
    automation = make_automation(policy(AUTO), max_attempts=3)
    recorder.failures = 2
    first = add_incident(store, "i1")
    automation.evaluate(first)
    automation.drain()
    assert [r.target for r in recorder.executed] == ["i1"]
    (done,), _ = store.list_actions()
    assert (done.status, done.attempts) == (ActionStatus.VERIFYING, 3)
    recorder.failures = 3
    automation.evaluate(add_incident(store, "i2"))
    automation.drain()
    newest = store.list_actions()[0][0]
    assert (newest.target, newest.status, newest.attempts) == ("i2", ActionStatus.ESCALATED, 3)
    assert newest.result["steps"][-1]["message"] == "ConnectionError: cloud API unreachable"


def test_a_hanging_executor_times_out_and_does_not_block_planning(
    store: Store, make_automation: MakeAutomation, recorder: Recorder
) -> None:
    # Three attempts allowed, yet a try that does not answer is never tried again: it may
    # still be acting (at most once).
    automation = make_automation(policy(AUTO), max_attempts=3, execute_timeout_s=0.05)
    recorder.hang.set()
    try:
        (decision,) = automation.evaluate(add_incident(store, "i1"))
        # Planning returned while the executor hangs: the pipeline thread is free.
        assert decision.outcome == "execute"
        automation.drain()
        (record,), _ = store.list_actions()
        assert record.status is ActionStatus.ESCALATED and record.attempts == 1
        (step,) = record.result["steps"]
        assert step["outcome"] == "unknown" and "outcome is unknown" in step["message"]
        assert recorder.calls == 1  # exactly one execution
        audit = store.list_audit(action="automation.escalate")[0]
        assert "outcome unknown after attempt 1" in audit[0].reason
    finally:
        recorder.release.set()


def test_policy_states_and_mismatches(store: Store, make_automation: MakeAutomation) -> None:
    automation = make_automation(policy(AUTO))
    incident = add_incident(store, "i1", metric="latency")
    (decision,) = automation.evaluate(incident)
    assert (decision.outcome, decision.reason) == (
        "not_matched",
        "dominant signal not in trigger.metrics",
    )
    acked = add_incident(store, "i2")
    acked.status = IncidentStatus.ACKNOWLEDGED
    (refused,) = automation.evaluate(acked)
    assert refused.reason == "incident is acknowledged; the policy acts only on open"


def test_manual_trigger_validates_and_is_idempotent_by_key(
    store: Store, make_automation: MakeAutomation, recorder: Recorder
) -> None:
    automation = make_automation()
    with pytest.raises(InvalidInputError) as bad:
        automation.trigger("scale_out", "grp", {"count": 0}, actor="alice")
    assert bad.value.field == "params.count"
    with pytest.raises(InvalidInputError, match="cannot act on a rds"):
        automation.trigger("reboot_instance", "db", actor="alice")
    first = automation.trigger("scale_out", "grp", {"count": 2}, actor="alice", key="k1")
    again = automation.trigger("scale_out", "grp", {"count": 2}, actor="alice", key="k1")
    automation.drain()
    assert first.id == again.id
    assert [(r.action, r.params) for r in recorder.executed] == [("scale_out", {"count": 2})]
    assert store.get_action(first.id or 0).status is ActionStatus.SUCCEEDED
    # The same key for another request is a conflict naming the first, never a silent no-op.
    dry = automation.trigger(
        "scale_out", "grp", {"count": 1}, actor="alice", key="k2", dry_run=True
    )
    for change in ({"params": {"count": 2}}, {"dry_run": False}):
        args: dict[str, Any] = {"params": {"count": 1}, "dry_run": True} | change
        with pytest.raises(ConflictError, match=f"already names automation action #{dry.id}"):
            automation.trigger("scale_out", "grp", actor="alice", key="k2", **args)
    automation.drain()
    assert len(recorder.executed) == 1


def test_runbook_stops_at_the_first_failed_step(
    store: Store, make_automation: MakeAutomation, recorder: Recorder
) -> None:
    automation = make_automation(max_attempts=1)
    steps = {"steps": [{"action": "restart_service"}, {"action": "reboot_instance"}]}
    recorder.failures = 1
    record = automation.trigger("runbook", "i1", steps, actor="alice")
    automation.drain()
    saved = store.get_action(record.id or 0)
    assert saved.status is ActionStatus.ESCALATED
    assert len(saved.result["steps"]) == 1 and recorder.executed == []


def test_a_rollback_restores_what_the_action_replaced(
    store: Store, make_automation: MakeAutomation, recorder: Recorder, clock: Clock
) -> None:
    p = policy(
        "name: throttle\nmode: auto\n"
        "actions: [{action: lambda_throttle, params: {reserved_concurrency: 0}}]"
    )
    automation = make_automation(p, verify_window_s=60)
    recorder.details = {"previous": 25}
    automation.evaluate(add_incident(store, "fn"))
    automation.drain()
    clock.now += 61
    automation.tick()
    automation.drain()
    assert [(r.action, r.params) for r in recorder.executed] == [
        ("lambda_throttle", {"reserved_concurrency": 0}),
        ("lambda_throttle", {"reserved_concurrency": 25}),
    ]


def test_an_approval_while_the_root_is_ranked_again_waits(
    store: Store, make_automation: MakeAutomation, recorder: Recorder
) -> None:
    """A member joined and the ranker has not vouched for a root again yet: the approval is
    refused for now and the action stays pending; once ranked, the approval runs it."""
    from opsgraph.core.models import IncidentEvent

    p = policy("name: ask\nactions: [{action: rds_failover}]\nmode: approval")
    automation = make_automation(p)
    incident = add_incident(store, "db")
    (decision,) = automation.evaluate(incident)
    assert decision.record is not None and decision.record.id is not None
    assert incident.id is not None
    store.add_incident_events(
        [IncidentEvent(incident_id=incident.id, ts=0.0, kind="ranked", message="db first")]
    )
    incident.root_confidence = None  # being ranked again
    store.update_incident(incident)
    with pytest.raises(ConflictError, match="ranked again after a new anomaly joined"):
        automation.approve(decision.record.id, actor="alice", note="go")
    assert store.get_action(decision.record.id).status is ActionStatus.PENDING
    incident.root_confidence = 0.8
    store.update_incident(incident)
    automation.approve(decision.record.id, actor="alice", note="go")
    automation.drain()
    assert [r.action for r in recorder.executed] == ["rds_failover"]
