"""Tests of the guardrails: cooldown, rate limits, blast radius (count and percent), states and
time windows, each refusing with a sentence that says which bound."""

from __future__ import annotations

from opsgraph.act.guardrails import Target, refusal
from opsgraph.core.models import Resource, ResourceKind
from opsgraph.store import Store
from opsgraph.store._automation import ActionStatus, AutomationAction

from .conftest import T0, add_incident, policy


def _acted(store: Store, target: str, ts: float, name: str = "p") -> None:
    store.claim_action(
        AutomationAction(
            key=f"{name}:{target}:{ts}",
            ts=ts,
            policy=name,
            action="reboot_instance",
            target=target,
            executor="sim",
            mode="auto",
            status=ActionStatus.SUCCEEDED,
        )
    )


def _target(node: str, members: tuple[str, ...] = (), own: int = 0) -> Target:
    kind = ResourceKind.ASG if own else ResourceKind.EC2
    return Target(node, Resource(id=node, kind=kind), members, own)


def test_no_action_on_a_resource_without_an_anomaly_of_its_own(store: Store) -> None:
    p = policy("name: p\nactions: [{action: reboot_instance}]\ncooldown_s: 0")
    incident = add_incident(store, "i1")
    args = {"action": "reboot_instance", "params": {}, "incident": incident, "now": T0}
    assert refusal(store, p, target=_target("i1"), **args) is None
    assert refusal(store, p, target=_target("bystander"), **args) == (
        f"bystander has no anomaly of its own in incident #{incident.id}"
    )
    # a group acts through its members: one anomalous member is enough
    group = Target("grp", Resource(id="grp", kind=ResourceKind.ASG), (), 2, ("i1", "i9"))
    assert refusal(store, p, target=group, **(args | {"action": "scale_out"})) is None


def test_cooldown_per_target(store: Store) -> None:
    p = policy("name: p\nactions: [{action: reboot_instance}]\ncooldown_s: 600")
    incident = add_incident(store, "i1", also=("i0", "i2", "i3", "grp"))
    _acted(store, "i1", T0)
    args = {"action": "reboot_instance", "params": {}, "incident": incident}
    why = refusal(store, p, target=_target("i1"), now=T0 + 599, **args)
    assert why == "cooldown: p acted on i1 less than 600s ago"
    assert refusal(store, p, target=_target("i1"), now=T0 + 601, **args) is None
    assert refusal(store, p, target=_target("i2"), now=T0 + 1, **args) is None


def test_rate_limits_per_resource_and_per_policy(store: Store) -> None:
    p = policy(
        "name: p\nactions: [{action: reboot_instance}]\ncooldown_s: 0\n"
        "rate_limit: {per_resource_per_hour: 2, global_per_hour: 3}"
    )
    incident = add_incident(store, "i1", also=("i0", "i2", "i3", "grp"))
    args = {"action": "reboot_instance", "params": {}, "incident": incident}
    _acted(store, "i1", T0)
    _acted(store, "i1", T0 + 10)
    assert refusal(store, p, target=_target("i1"), now=T0 + 20, **args) == (
        "rate limit: 2 actions on i1 in the last hour (at most 2)"
    )
    _acted(store, "i2", T0 + 30)
    assert refusal(store, p, target=_target("i3"), now=T0 + 40, **args) == (
        "rate limit: 3 actions of p in the last hour (at most 3)"
    )
    assert refusal(store, p, target=_target("i3"), now=T0 + 3700, **args) is None


def test_blast_radius_counts_resources_and_group_share(store: Store) -> None:
    p = policy(
        "name: p\nactions: [{action: reboot_instance}]\ncooldown_s: 0\n"
        "blast_radius: {max_resources: 2, max_percent: 50}"
    )
    incident = add_incident(store, "i1", also=("i0", "i2", "i3", "grp"))
    args = {"action": "reboot_instance", "params": {}, "incident": incident}
    _acted(store, "i0", T0)
    _acted(store, "x9", T0)
    why = refusal(store, p, target=_target("i1"), now=T0 + 1, **args)
    assert why == "blast radius: 3 resources in an hour would exceed max_resources 2"
    # Acting again on a resource already touched does not widen the radius.
    assert refusal(store, p, target=_target("i0"), now=T0 + 1, **args) is None
    scale = {"action": "scale_out", "incident": incident}
    share = policy("name: s\nactions: [{action: scale_out}]\nblast_radius: {max_percent: 50}")
    group = _target("grp", own=4)
    big = refusal(store, share, params={"count": 3}, target=group, now=T0, **scale)
    assert big == "blast radius: 3 of 4 members is 75% (at most 50%)"
    assert refusal(store, share, params={"count": 2}, target=group, now=T0, **scale) is None


def test_time_windows_and_incident_states(store: Store) -> None:
    p = policy("name: p\nactions: [{action: reboot_instance}]\ntime_windows: [{days: [sat, sun]}]")
    incident = add_incident(store, "i1", also=("i0", "i2", "i3", "grp"))
    args = {"action": "reboot_instance", "params": {}, "incident": incident}
    assert refusal(store, p, target=_target("i1"), now=T0, **args) == (
        "outside the policy's time windows"
    )
    assert refusal(store, p, target=Target(None, None), now=T0 + 5 * 86400, **args) == (
        "no target: the incident has no node for this action's target"
    )
