"""Guardrails: the bounds a policy's action must stay inside before it is planned — incident
state, time windows, the action's resource kinds and states, cooldown, rate limits, blast radius.

`refusal(...)` returns the first bound broken, as a sentence for the audit trail, or None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from opsgraph.act.actions import get_action
from opsgraph.act.policy import Policy
from opsgraph.core.models import Incident, Resource
from opsgraph.store import Store
from opsgraph.store._automation import ACTED, ActionStatus

HOUR = 3600.0
#: Data seconds after an action on a node during which its dependents are left alone: their
#: trouble may be that node's, and the action needs time to act (and to be verified).
SETTLE_S = 900.0


@dataclass(frozen=True)
class Target:
    """The node acted on, and the members of its group (for the blast radius in percent)."""

    id: str | None
    resource: Resource | None
    group_members: Sequence[str] = ()
    own_members: int = 0  # when the target is itself a group: its member count
    member_ids: Sequence[str] = ()  # when the target is itself a group: its members
    #: The nodes the target calls, directly or through one more node.
    depends_on: frozenset[str] = frozenset()


#: Actions that act on no resource (they tell someone): no anomaly of their own is needed.
_MESSAGES = frozenset({"notify", "webhook"})


def refusal(
    store: Store,
    policy: Policy,
    *,
    action: str,
    params: dict[str, object],
    incident: Incident,
    target: Target,
    now: float,
) -> str | None:
    """Why the action may not run now, or None when every guardrail allows it."""
    if incident.status not in policy.allowed_states:
        allowed = ", ".join(s.value for s in policy.allowed_states)
        return f"incident is {incident.status.value}; the policy acts only on {allowed}"
    if policy.time_windows and not any(w.contains(now) for w in policy.time_windows):
        return "outside the policy's time windows"
    spec = get_action(action)
    resource = target.resource
    if target.id is None:
        return "no target: the incident has no node for this action's target"
    if action not in _MESSAGES and incident.id is not None:
        # Act only where the trouble shows: on a resource (or group of resources) with an
        # anomaly of its own in this incident, never on a bystander the target rule picked.
        anomalous = {a.resource_id for a in store.incident_anomalies(incident.id)}
        if target.id not in anomalous and not anomalous.intersection(target.member_ids):
            return f"{target.id} has no anomaly of its own in incident #{incident.id}"
        # A caller of another open incident's root suffers from that root, and a caller of a
        # node just acted on may still be recovering from it: acting on the caller treats a
        # symptom (a rollback of a service whose database is down, or was just failed over).
        if target.depends_on:
            acted, _ = store.list_actions(statuses=ACTED, since=now - SETTLE_S, limit=500)
            cause = next((a for a in acted if a.target in target.depends_on), None)
            if cause is not None:
                return (
                    f"{target.id} depends on {cause.target}, acted on {now - cause.ts:.0f}s ago "
                    f"({cause.action}): waiting {SETTLE_S:g}s for it to settle"
                )
        for other in store.open_incidents():
            root = other.root_resource_id
            if other.id != incident.id and root is not None and root in target.depends_on:
                return (
                    f"{target.id} depends on {root}, the root of open incident #{other.id}: "
                    "its trouble is likely that incident's"
                )
    if resource is not None and resource.kind not in spec.kinds:
        return f"{action} cannot act on a {resource.kind.value} resource"
    state = resource.attrs.get("state") if resource is not None else None
    if spec.states and state is not None and state not in spec.states:
        return f"{action} needs state {' or '.join(spec.states)}; {target.id} is {state}"
    if policy.cooldown_s > 0:
        recent = store.count_actions(
            since=now - policy.cooldown_s,
            statuses=(*ACTED, ActionStatus.PENDING),
            target=target.id,
            policy=policy.name,
        )
        if recent:
            return (
                f"cooldown: {policy.name} acted on {target.id} less than {policy.cooldown_s:g}s ago"
            )
    limit = policy.rate_limit
    if limit.per_resource_per_hour is not None:
        n = store.count_actions(since=now - HOUR, target=target.id)
        if n >= limit.per_resource_per_hour:
            most = limit.per_resource_per_hour
            return f"rate limit: {n} actions on {target.id} in the last hour (at most {most})"
    if limit.global_per_hour is not None:
        n = store.count_actions(since=now - HOUR, policy=policy.name)
        if n >= limit.global_per_hour:
            most = limit.global_per_hour
            return f"rate limit: {n} actions of {policy.name} in the last hour (at most {most})"
    return _blast_radius(store, policy, params, target, now)


def _blast_radius(
    store: Store, policy: Policy, params: dict[str, object], target: Target, now: float
) -> str | None:
    bound = policy.blast_radius
    assert target.id is not None
    if bound.max_resources is not None:
        others = store.count_actions(since=now - HOUR, policy=policy.name, distinct_targets=True)
        mine = store.count_actions(since=now - HOUR, policy=policy.name, target=target.id)
        touched = others + (0 if mine else 1)
        if touched > bound.max_resources:
            return (
                f"blast radius: {touched} resources in an hour would exceed "
                f"max_resources {bound.max_resources}"
            )
    if bound.max_percent is not None:
        if target.own_members and "count" in params:
            count = params["count"]
            share = 100.0 * float(count if isinstance(count, int) else 1) / target.own_members
            if share > bound.max_percent:
                return (
                    f"blast radius: {count} of {target.own_members} members is {share:.0f}% "
                    f"(at most {bound.max_percent:g}%)"
                )
        members = list(target.group_members)
        if members:
            acted = store.count_actions(since=now - HOUR, targets=members, distinct_targets=True)
            mine = store.count_actions(since=now - HOUR, target=target.id)
            share = 100.0 * (acted + (0 if mine else 1)) / len(members)
            if share > bound.max_percent:
                return (
                    f"blast radius: acting on {target.id} would touch {share:.0f}% of its group "
                    f"in an hour (at most {bound.max_percent:g}%)"
                )
    return None
