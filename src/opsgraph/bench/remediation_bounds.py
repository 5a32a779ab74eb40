"""An audit of executed remediation actions against their policies' bounds, computed afresh from
the action records — not through the guardrails that planned them — so a guardrail bug shows.

Checked for every action a policy planned that counts as acted (ran, or may have run): the
policy exists and is enabled, lists that action, is in a mode that lets it run unattended (or
the record carries an approver); the target's kind suits the action; the time windows; the
cooldown per target; the rate limits per resource and per policy; the blast radius in distinct
resources and in percent of a group. Earlier actions are those stored before it (lower id).
"""

from __future__ import annotations

from collections.abc import Sequence

from opsgraph.act.actions import get_action
from opsgraph.act.policy import Mode, Policy
from opsgraph.core.models import Dependency, DependencyKind, Resource
from opsgraph.store._automation import ACTED, AutomationAction

HOUR = 3600.0


def _group_members(dependencies: Sequence[Dependency]) -> tuple[dict[str, str], dict[str, int]]:
    """(node -> its group, group -> member count)."""
    group_of = {d.target: d.source for d in dependencies if d.kind is DependencyKind.MEMBER}
    sizes: dict[str, int] = {}
    for group in group_of.values():
        sizes[group] = sizes.get(group, 0) + 1
    return group_of, sizes


def out_of_bounds(
    records: Sequence[AutomationAction],
    policies: Sequence[Policy],
    resources: dict[str, Resource],
    dependencies: Sequence[Dependency] = (),
) -> list[str]:
    """One sentence per bound an acted action broke; empty when every one held."""
    by_name = {p.name: p for p in policies}
    group_of, sizes = _group_members(dependencies)
    acted = sorted((r for r in records if r.status in ACTED), key=lambda r: r.id or 0)
    problems: list[str] = []
    for i, rec in enumerate(acted):
        if not rec.policy or rec.mode == "rollback":
            continue  # manual actions and rollbacks of a policy's action are not planned by one
        what = f"action #{rec.id} ({rec.action} on {rec.target} by {rec.policy})"
        policy = by_name.get(rec.policy)
        if policy is None or not policy.enabled:
            problems.append(f"{what}: no enabled policy of that name")
            continue
        if rec.action not in {a.action for a in policy.actions}:
            problems.append(f"{what}: the policy has no such action")
        if policy.mode is Mode.DRY_RUN or (
            policy.mode is Mode.APPROVAL and not rec.result.get("decided_by")
        ):
            problems.append(f"{what}: ran although the policy is {policy.mode.value}")
        resource = resources.get(rec.target or "")
        if resource is not None and resource.kind not in get_action(rec.action).kinds:
            problems.append(f"{what}: {rec.action} does not act on {resource.kind.value}")
        if policy.time_windows and not any(w.contains(rec.ts) for w in policy.time_windows):
            problems.append(f"{what}: outside the policy's time windows")
        problems.extend(f"{what}: {p}" for p in _windows(rec, acted[:i], policy, group_of, sizes))
    return problems


def _windows(
    rec: AutomationAction,
    earlier: Sequence[AutomationAction],
    policy: Policy,
    group_of: dict[str, str],
    sizes: dict[str, int],
) -> list[str]:
    """Bounds over time: cooldown, rate limits and blast radius."""
    out: list[str] = []
    hour = [e for e in earlier if e.ts >= rec.ts - HOUR]
    if policy.cooldown_s > 0 and any(
        e.policy == policy.name and e.target == rec.target and e.ts > rec.ts - policy.cooldown_s
        for e in earlier
    ):
        out.append(f"inside the {policy.cooldown_s:g}s cooldown")
    limit = policy.rate_limit
    on_target = sum(1 for e in hour if e.target == rec.target)
    if limit.per_resource_per_hour is not None and on_target >= limit.per_resource_per_hour:
        out.append(f"{on_target + 1} actions on the resource in an hour")
    mine = [e for e in hour if e.policy == policy.name]
    if limit.global_per_hour is not None and len(mine) >= limit.global_per_hour:
        out.append(f"{len(mine) + 1} actions of the policy in an hour")
    bound = policy.blast_radius
    touched = {e.target for e in mine} | {rec.target}
    if bound.max_resources is not None and len(touched) > bound.max_resources:
        out.append(f"{len(touched)} resources touched in an hour")
    if bound.max_percent is not None and rec.target is not None:
        count = rec.params.get("count")
        own = sizes.get(rec.target, 0)
        if own and isinstance(count, int) and 100.0 * count / own > bound.max_percent:
            out.append(f"scaled by {count} of {own} members")
        group = group_of.get(rec.target)
        if group is not None:
            members = {e.target for e in hour if group_of.get(e.target or "") == group}
            share = 100.0 * len(members | {rec.target}) / sizes[group]
            if share > bound.max_percent:
                out.append(f"{share:.0f}% of group {group} touched in an hour")
    return out
