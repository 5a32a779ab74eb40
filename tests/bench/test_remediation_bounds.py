"""The independent audit of remediation actions against their policies' bounds."""

from __future__ import annotations

from typing import Any

from opsgraph.act.policy import parse_policies
from opsgraph.bench.remediation_bounds import out_of_bounds
from opsgraph.core.models import Dependency, DependencyKind, Resource, ResourceKind
from opsgraph.store._automation import ActionStatus, AutomationAction

POLICIES = parse_policies(
    """
policies:
  - name: restart
    trigger: {resource_kinds: [ec2]}
    actions: [{action: restart_service, target: root}]
    mode: auto
    cooldown_s: 600
    rate_limit: {per_resource_per_hour: 2, global_per_hour: 3}
    blast_radius: {max_resources: 2, max_percent: 50}
  - name: scale
    actions: [{action: scale_out, target: group, params: {count: 1}}]
    mode: auto
    cooldown_s: 0
    blast_radius: {max_percent: 50}
  - name: careful
    actions: [{action: restart_service, target: root}]
    mode: approval
  - name: office-hours
    actions: [{action: restart_service, target: root}]
    mode: auto
    time_windows: [{days: [mon], start: "09:00", end: "10:00"}]
"""
)
RESOURCES = {
    r.id: r
    for r in [
        *(Resource(id=f"web-{i}", kind=ResourceKind.EC2) for i in range(1, 5)),
        Resource(id="web-asg", kind=ResourceKind.ASG),
        Resource(id="db", kind=ResourceKind.RDS),
    ]
}
DEPS = [
    Dependency(source="web-asg", target=f"web-{i}", kind=DependencyKind.MEMBER) for i in range(1, 5)
]
# 2026-11-16 was a Monday; 09:30 UTC.
MONDAY_0930 = 1_794_821_400.0


def _act(i: int, target: str, ts: float, policy: str = "restart", **kw: Any) -> AutomationAction:
    fields: dict[str, Any] = {
        "id": i,
        "key": f"k{i}",
        "ts": ts,
        "policy": policy,
        "action": "restart_service",
        "target": target,
        "executor": "sim",
        "mode": "auto",
        "status": ActionStatus.SUCCEEDED,
    } | kw
    return AutomationAction(**fields)


def _check(*records: AutomationAction) -> list[str]:
    return out_of_bounds(records, POLICIES, RESOURCES, DEPS)


def test_actions_inside_every_bound_pass() -> None:
    assert _check(_act(1, "web-1", 0.0), _act(2, "web-1", 700.0)) == []
    # Refused and dry-run records never acted: they cannot break a bound.
    refused = _act(3, "web-1", 710.0, status=ActionStatus.REFUSED)
    assert _check(_act(1, "web-1", 0.0), refused) == []


def test_each_broken_bound_is_named() -> None:
    assert "cooldown" in _check(_act(1, "web-1", 0.0), _act(2, "web-1", 300.0))[0]
    three = _check(_act(1, "web-1", 0.0), _act(2, "web-1", 700.0), _act(3, "web-1", 1400.0))
    assert any("3 actions on the resource in an hour" in p for p in three)
    spread = _check(_act(1, "web-1", 0.0), _act(2, "web-2", 10.0), _act(3, "web-3", 20.0))
    assert any("3 resources touched" in p for p in spread)
    assert any("75% of group web-asg" in p for p in spread)
    many = [_act(i, f"web-{i % 2 + 1}", 700.0 * i) for i in range(1, 5)]
    assert any("4 actions of the policy in an hour" in p for p in _check(*many))


def test_mode_kind_window_and_unknown_policy() -> None:
    assert "ran although the policy is approval" in _check(_act(1, "web-1", 0.0, "careful"))[0]
    approved = _act(1, "web-1", 0.0, "careful", result={"decided_by": "alice"})
    assert _check(approved) == []
    assert "does not act on rds" in _check(_act(1, "db", 0.0))[0]
    assert "time windows" in _check(_act(1, "web-1", MONDAY_0930 + 3600, "office-hours"))[0]
    assert _check(_act(1, "web-1", MONDAY_0930, "office-hours")) == []
    assert "no enabled policy" in _check(_act(1, "web-1", 0.0, "gone"))[0]
    scaled = _act(1, "web-asg", 0.0, "scale", action="scale_out", params={"count": 3})
    assert "scaled by 3 of 4 members" in _check(scaled)[0]
