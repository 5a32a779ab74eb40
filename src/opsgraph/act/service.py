"""The automation engine: matching policies plan actions for incidents within guardrails, then
record a dry run, wait for approval or execute; operators approve, reject or trigger by hand.

Every step writes an audit event and an `automation:log` message (see runner.py for execution).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from opsgraph.act.actions import get_action, validate_action
from opsgraph.act.approvals import Approvals
from opsgraph.act.executors import ActionRequest, Executor, ExecutorContext, Plan, build_executors
from opsgraph.act.guardrails import Target, refusal
from opsgraph.act.policy import (
    CHANGE,
    Mode,
    Policy,
    Situation,
    load_policies,
    mismatch,
    resolve_target,
)
from opsgraph.act.settings import AutomationSettings
from opsgraph.core.errors import ConflictError, InvalidInputError, OpsgraphError
from opsgraph.core.models import (
    Dependency,
    DependencyKind,
    Event,
    Incident,
    Resource,
    ResourceKind,
)
from opsgraph.store import Store
from opsgraph.store._automation import ActionStatus, AutomationAction

log = logging.getLogger("opsgraph.act")

_GROUP_KINDS = (ResourceKind.ASG, ResourceKind.K8S_SERVICE)


@dataclass
class Decision:
    """What one action of one policy does for one incident (also what `policy test` shows)."""

    policy: str
    action: str
    target: str | None
    params: dict[str, Any]
    executor: str
    mode: str
    outcome: str  # dry_run, pending, execute, refused, skipped, not_matched
    reason: str = ""
    steps: list[str] = field(default_factory=list)
    record: AutomationAction | None = None

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "record"}
        out["id"] = self.record.id if self.record else None
        return out


class Automation(Approvals):
    """Remediation for one process's store and estate."""

    def __init__(
        self,
        store: Store,
        settings: AutomationSettings,
        *,
        clock: Callable[[], float],
        resources: Callable[[], dict[str, Resource]],
        dependencies: Callable[[], Sequence[Dependency]],
        publish: Callable[[str, Any], None],
        apply_sim_action: Callable[[str, str, dict[str, Any]], dict[str, Any]] | None = None,
        policies: Sequence[Policy] | None = None,
        executors: dict[str, Executor] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self._resources = resources
        self._dependencies = dependencies
        self._publish = publish
        self.policies = (
            list(policies) if policies is not None else load_policies(settings.policy_dir)
        )
        context = ExecutorContext(
            apply_sim_action=apply_sim_action, publish=publish, resources=resources
        )
        self.executors = build_executors(settings.executors, context)
        self.executors.update(executors or {})
        self._pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="opsgraph-act")
        self._futures: set[Future[None]] = set()
        self._lock = threading.Lock()

    # -- life ----------------------------------------------------------------------------------
    def recover(self) -> None:
        """Actions still running past their run deadline were interrupted (a crash, a killed
        replica): they are never run again — their outcome is unknown — but escalated to a
        person. Runs at start and on every tick; another replica's live run is left alone."""
        now = time.time()
        running, _ = self.store.list_actions(statuses=[ActionStatus.RUNNING], limit=10_000)
        for record in running:
            assert record.id is not None
            # No deadline yet: claimed but not submitted; give that a minute.
            deadline = (
                record.expires_ts if record.expires_ts is not None else record.updated_ts + 60
            )
            if deadline > now:
                continue
            saved = self.store.update_action(
                record.id,
                expect=[ActionStatus.RUNNING],
                status=ActionStatus.ESCALATED,
                result=record.result | {"error": "interrupted (restart or crash); outcome unknown"},
            )
            if saved is not None:
                self._log("escalate", saved, "interrupted; not executed again")
                self._timeline(
                    saved, f"{saved.action} on {saved.target} was interrupted; escalated"
                )

    def reload_policies(self, *, actor: str) -> list[Policy]:
        """Read `policy_dir` again; a bad file raises and keeps the policies in force."""
        fresh = load_policies(self.settings.policy_dir)
        before = [p.name for p in self.policies]
        self.policies = fresh
        names = [p.name for p in fresh]
        self.store.audit(
            actor,
            "automation.policies.reload",
            str(self.settings.policy_dir) if self.settings.policy_dir else None,
            inputs={"before": before},
            result={"policies": names},
        )
        self._publish("automation:log", {"event": "policies", "policies": names, "actor": actor})
        return fresh

    def drain(self, timeout: float | None = None) -> None:
        """Wait for submitted executions and rollbacks (tests, shutdown)."""
        with self._lock:
            pending = set(self._futures)
        wait(pending, timeout=timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- planning ------------------------------------------------------------------------------
    def on_incident(self, incident: Incident, event: str) -> None:
        """The lifecycle hook: plan for the incident, then check expiries and verifications."""
        if self.policies and event != "resolved":
            self.evaluate(incident, event)
        self.tick()

    def situation(self, incident: Incident, event: str) -> Situation:
        assert incident.id is not None
        return Situation(
            incident=incident,
            anomalies=self.store.incident_anomalies(incident.id),
            resources=self._resources(),
            now=self.clock(),
            event=event,
            changes=self._changes(incident),
        )

    def _changes(self, incident: Incident) -> list[Event]:
        """The root's change events as far back as any policy's `changed_within_s` looks."""
        within = [p.trigger.changed_within_s for p in self.policies if p.trigger.changed_within_s]
        if not within or not incident.root_resource_id:
            return []
        events, _ = self.store.list_events(
            resource_id=incident.root_resource_id,
            start=incident.opened_ts - max(within),
            limit=200,
        )
        return [e for e in events if e.kind.startswith(CHANGE)]

    def evaluate(
        self,
        incident: Incident,
        event: str = "opened",
        *,
        policies: Sequence[Policy] | None = None,
        record: bool = True,
    ) -> list[Decision]:
        """Every policy's decision for the incident; with record=False nothing is stored,
        executed or published (what `opsgraph policy test` shows)."""
        return self.decide(self.situation(incident, event), policies=policies, record=record)

    def decide(
        self,
        situation: Situation,
        *,
        policies: Sequence[Policy] | None = None,
        record: bool = True,
    ) -> list[Decision]:
        """The decisions of the policies for a situation (see `evaluate`)."""
        incident = situation.incident
        top = situation.dominant
        # What the decision was made on, kept with the action: an approver (and the audit
        # trail) sees the evidence, and approval checks it again (`_gone`).
        evidence = {
            "incident_status": incident.status.value,
            "severity": incident.severity.value,
            "root": incident.root_resource_id,
            "dominant": None if top is None else f"{top.resource_id}/{top.metric}",
            "dominant_score": None if top is None else round(top.max_score, 4),
            "anomalies": len(situation.anomalies),
        }
        out: list[Decision] = []
        for policy in self.policies if policies is None else policies:
            why = mismatch(policy, situation)
            if why is not None:
                out.append(
                    Decision(policy.name, "", None, {}, "", policy.mode.value, "not_matched", why)
                )
                continue
            for step, spec in enumerate(policy.actions):
                target = resolve_target(spec.target, situation, self._groups())
                key = f"policy:{policy.name}:incident:{incident.id}:step:{step}:{target}"
                decision = self._decide(
                    policy,
                    spec.action,
                    spec.params,
                    spec.executor,
                    target,
                    incident,
                    key,
                    record,
                    evidence,
                )
                out.append(decision)
        return out

    def _groups(self) -> dict[str, str]:
        return {d.target: d.source for d in self._dependencies() if d.kind is DependencyKind.MEMBER}

    def _target(self, node: str | None) -> Target:
        if node is None:
            return Target(None, None)
        resources = self._resources()
        resource = resources.get(node)
        deps = self._dependencies()
        group = next(
            (d.source for d in deps if d.kind is DependencyKind.MEMBER and d.target == node), None
        )
        members = [d.target for d in deps if d.kind is DependencyKind.MEMBER and d.source == group]
        mine = [d.target for d in deps if d.kind is DependencyKind.MEMBER and d.source == node]
        if resource is not None and resource.kind in _GROUP_KINDS:
            members = []
        calls: dict[str, set[str]] = {}
        for d in deps:
            if d.kind is DependencyKind.CALLS:
                calls.setdefault(d.source, set()).add(d.target)
        near = calls.get(node, set())
        depends_on = frozenset(near | {c for n in near for c in calls.get(n, ())}) - {node}
        return Target(node, resource, members if group else (), len(mine), mine, depends_on)

    def _executor_name(self, action: str, name: str | None) -> str:
        """The executor recorded for an action; '' for a runbook whose steps pick their own."""
        if name is not None:
            return name
        if action == "runbook":
            return ""
        return action if action in ("notify", "webhook") else self.settings.default_executor

    def _executor_for(self, action: str, name: str | None) -> tuple[str, Executor]:
        name = self._executor_name(action, name)
        executor = self.executors.get(name)
        if executor is None:
            raise InvalidInputError(
                "executor", f"unknown executor {name!r}; known: {', '.join(self.executors)}"
            )
        return name, executor

    def plans(self, request: ActionRequest, executor: str | None, *, dry_run: bool) -> list[Plan]:
        """The plans of an action; a runbook gives one plan per step, in order."""
        if request.action == "runbook":
            out = []
            for i, step in enumerate(request.params["steps"]):
                sub = ActionRequest(
                    action=step["action"],
                    target=request.target,
                    params=step["params"],
                    key=f"{request.key}:step:{i}",
                    reason=request.reason,
                )
                out.extend(self.plans(sub, executor, dry_run=dry_run))
            return out
        _, chosen = self._executor_for(request.action, executor)
        return [chosen.plan(request, dry_run=dry_run)]

    def _decide(
        self,
        policy: Policy,
        action: str,
        params: dict[str, Any],
        executor: str | None,
        node: str | None,
        incident: Incident,
        key: str,
        record: bool,
        evidence: dict[str, Any] | None = None,
    ) -> Decision:
        mode = policy.mode
        name = self._executor_name(action, executor)
        decision = Decision(policy.name, action, node, params, name, mode.value, "refused")
        if self.store.find_action(key) is not None:
            decision.outcome, decision.reason = "skipped", "already planned for this incident"
            return decision
        now = self.clock()
        why = refusal(
            self.store,
            policy,
            action=action,
            params=params,
            incident=incident,
            target=self._target(node),
            now=now,
        )
        plans: list[Plan] = []
        if why is None:
            request = ActionRequest(
                action=action,
                target=node,
                params=params,
                key=key,
                reason=f"policy {policy.name} on incident #{incident.id}: {incident.title}",
            )
            try:
                plans = self.plans(request, executor, dry_run=mode is not Mode.AUTO)
            except OpsgraphError as exc:
                why = f"cannot plan: {exc}"
        decision.steps = [s for p in plans for s in p.steps]
        if why is not None:
            decision.reason = why
            status = ActionStatus.REFUSED
        else:
            decision.outcome = {
                Mode.DRY_RUN: "dry_run",
                Mode.APPROVAL: "pending",
                Mode.AUTO: "execute",
            }[mode]
            decision.reason = "within every guardrail"
            status = {
                Mode.DRY_RUN: ActionStatus.DRY_RUN,
                Mode.APPROVAL: ActionStatus.PENDING,
                Mode.AUTO: ActionStatus.RUNNING,
            }[mode]
        if not record:
            return decision
        saved = self.store.claim_action(
            AutomationAction(
                key=key,
                ts=now,
                policy=policy.name,
                action=action,
                target=node,
                params=params,
                executor=name,
                mode=mode.value,
                status=status,
                incident_id=incident.id,
                reason=decision.reason,
                actor=f"policy:{policy.name}",
                expires_ts=time.time() + self.settings.approval_ttl_s
                if status is ActionStatus.PENDING
                else None,
                result={"plan": decision.steps, "evidence": evidence or {}},
            )
        )
        if saved is None:  # another replica or an earlier event claimed it first
            decision.outcome, decision.reason = "skipped", "already planned for this incident"
            return decision
        decision.record = saved
        self._log(
            {
                ActionStatus.REFUSED: "refuse",
                ActionStatus.DRY_RUN: "dry_run",
                ActionStatus.PENDING: "pending",
                ActionStatus.RUNNING: "plan",
            }[status],
            saved,
            decision.reason,
        )
        self._timeline(saved, f"{action} on {node}: {decision.outcome} ({decision.reason})")
        if status is ActionStatus.RUNNING:
            self._submit(saved, plans)
        return decision

    # -- operators -----------------------------------------------------------------------------
    def trigger(
        self,
        action: str,
        target: str | None,
        params: dict[str, Any] | None = None,
        *,
        actor: str,
        reason: str = "",
        dry_run: bool = False,
        executor: str | None = None,
        incident_id: int | None = None,
        key: str | None = None,
    ) -> AutomationAction:
        """A manual action: checked against the catalog, planned, executed off this thread
        (or only recorded, when dry_run). `key` makes a repeated request a no-op."""
        clean = validate_action(action, params or {})
        spec = get_action(action)
        resource = self._resources().get(target or "")
        if target is not None and resource is None:
            raise InvalidInputError("target", f"unknown resource {target!r}")
        if resource is not None and resource.kind not in spec.kinds:
            raise InvalidInputError(
                "target", f"{action} cannot act on a {resource.kind.value} resource"
            )
        if incident_id is not None:
            self.store.get_incident(incident_id)
        key = key or f"manual:{uuid.uuid4().hex}"
        request = ActionRequest(action=action, target=target, params=clean, key=key, reason=reason)
        plans = self.plans(request, executor, dry_run=dry_run)
        name = self._executor_name(action, executor)
        status = ActionStatus.DRY_RUN if dry_run else ActionStatus.RUNNING
        saved = self.store.claim_action(
            AutomationAction(
                key=key,
                ts=self.clock(),
                action=action,
                target=target,
                params=clean,
                executor=name,
                mode="dry_run" if dry_run else "manual",
                status=status,
                incident_id=incident_id,
                reason=reason,
                actor=actor,
                result={"plan": [s for p in plans for s in p.steps]},
            )
        )
        if saved is None:
            existing = self.store.find_action(key)
            assert existing is not None
            mode = "dry_run" if dry_run else "manual"
            same = (existing.action, existing.target, existing.params, existing.mode) == (
                action,
                target,
                clean,
                mode,
            )
            if not same:
                # The key names another request: answering with that one's record would look
                # like success and do nothing.
                raise ConflictError(
                    f"key {key!r} already names automation action #{existing.id} "
                    f"({existing.mode}: {existing.action} on {existing.target or 'no target'} "
                    f"with {existing.params}); use another key for a different request"
                )
            return existing
        self._log("dry_run" if dry_run else "plan", saved, reason or "manual trigger")
        if not dry_run:
            self._submit(saved, plans)
        return saved
