"""Approving and rejecting pending actions: the half of `Automation` that people drive. An
approval is checked again at the moment it would run (`_gone`): an action whose incident has
resolved, or whose policy no longer applies, is cancelled with the reason, not executed. One
whose incident's root is being ranked again (`_settling`) stays pending: the approval is
refused with the reason, to be given again a moment later.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from opsgraph.act.executors import ActionRequest, Plan
from opsgraph.act.policy import Policy, Situation, mismatch
from opsgraph.act.runner import ActionRunner
from opsgraph.core.errors import ConflictError
from opsgraph.core.models import Incident, IncidentStatus
from opsgraph.store._automation import ActionStatus, AutomationAction


class Approvals(ActionRunner):
    """Pending actions decided by people (`Automation` holds the state used here)."""

    policies: list[Policy]
    situation: Callable[[Incident, str], Situation]

    def _decide_pending(
        self, action_id: int, to: ActionStatus, event: str, actor: str, note: str
    ) -> AutomationAction:
        """Move a pending action on (to running, or rejected); only one caller can win."""
        record = self.store.get_action(action_id)
        if (
            record.status is ActionStatus.PENDING
            and record.expires_ts is not None
            and record.expires_ts <= time.time()
        ):
            self._expire(record)
            raise ConflictError(f"automation action #{action_id} expired unapproved")
        if record.status is not ActionStatus.PENDING:
            raise ConflictError(
                f"automation action #{action_id} is {record.status.value}, not pending"
            )
        plans: list[Plan] = []
        if to is ActionStatus.RUNNING:
            settling = self._settling(record)
            if settling is not None:
                # Neither executed nor thrown away: the ranker vouches for a root again after
                # the next detection batch, and the approval can be given then.
                raise ConflictError(f"automation action #{action_id} not executed yet: {settling}")
            gone = self._gone(record)
            if gone is not None:
                cancelled = self.store.update_action(
                    action_id,
                    expect=[ActionStatus.PENDING],
                    status=ActionStatus.CANCELLED,
                    result=record.result | {"decided_by": actor, "note": note, "cancelled": gone},
                )
                if cancelled is None:
                    raise ConflictError(f"automation action #{action_id} was decided meanwhile")
                self._log("cancel", cancelled, f"approved by {actor}, not executed: {gone}")
                self._timeline(
                    cancelled,
                    f"{cancelled.action} on {cancelled.target} approved by {actor} but not "
                    f"executed: {gone}",
                    actor=actor,
                )
                raise ConflictError(f"automation action #{action_id} not executed: {gone}")
            # Planned before the status changes: an action that cannot be planned stays pending.
            request = ActionRequest(
                action=record.action,
                target=record.target,
                params=record.params,
                key=record.key,
                reason=record.reason,
            )
            plans = self.plans(request, record.executor or None, dry_run=False)
        saved = self.store.update_action(
            action_id,
            expect=[ActionStatus.PENDING],
            status=to,
            result=record.result | {"decided_by": actor, "note": note},
        )
        if saved is None:
            raise ConflictError(f"automation action #{action_id} was decided meanwhile")
        self._log(event, saved, note, actor=actor)
        word = "approved" if event == "approve" else "rejected"
        self._timeline(
            saved,
            f"{saved.action} on {saved.target} {word} by {actor}" + (f": {note}" if note else ""),
            actor=actor,
        )
        if plans:
            self._submit(saved, plans)
        return saved

    def _settling(self, record: AutomationAction) -> str | None:
        """Why the action cannot run this instant but may in a moment: its incident's root is
        being ranked again (a member joined, and the newest data is a row old), and its policy
        acts only on a ranked root."""
        if record.incident_id is None:
            return None
        incident = self.store.get_incident(record.incident_id)
        if incident.status is IncidentStatus.RESOLVED or incident.root_confidence is not None:
            return None
        policy = next((p for p in self.policies if p.name == record.policy), None)
        if policy is None or policy.trigger.min_root_confidence is None:
            return None
        if not any(a.target in ("root", "group") for a in policy.actions):
            return None
        ranked_before = any(
            e.kind == "ranked" for e in self.store.incident_timeline(record.incident_id)
        )
        if not ranked_before:
            return None
        return (
            f"incident #{incident.id}'s root is being ranked again after a new anomaly joined; "
            "approve again in a moment, or reject it"
        )

    def _gone(self, record: AutomationAction) -> str | None:
        """Why a pending action no longer fits what it was planned for, at the moment it would
        run: its incident resolved, or its policy's conditions no longer hold."""
        if record.incident_id is None:
            return None
        incident = self.store.get_incident(record.incident_id)
        if incident.status is IncidentStatus.RESOLVED:
            when = time.strftime("%H:%M:%S", time.gmtime(incident.resolved_ts or 0))
            return f"incident #{incident.id} resolved at {when} UTC, before the approval"
        policy = next((p for p in self.policies if p.name == record.policy), None)
        if policy is None:
            return None
        event = policy.trigger.events[0] if policy.trigger.events else "opened"
        why = mismatch(policy, self.situation(incident, event))
        return None if why is None else f"policy {policy.name} no longer applies: {why}"

    def approve(self, action_id: int, *, actor: str, note: str = "") -> AutomationAction:
        """Approve a pending action: it executes now (off this thread)."""
        return self._decide_pending(action_id, ActionStatus.RUNNING, "approve", actor, note)

    def reject(self, action_id: int, *, actor: str, note: str = "") -> AutomationAction:
        """Reject a pending action: it never runs."""
        return self._decide_pending(action_id, ActionStatus.REJECTED, "reject", actor, note)
