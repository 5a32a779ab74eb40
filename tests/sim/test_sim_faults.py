"""Fault injection against a no-fault twin: visible effects, ground truth, expiry and actions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.metrics import SIM_METRICS
from opsgraph.core.models import DependencyKind, ResourceKind, SampleFrame
from opsgraph.sim import ActionKind, FaultKind, FaultRecord, SimulatedCloud

T0 = 1_700_485_200.0  # 2023-11-20 13:00 UTC, a busy Monday
COL = {m: j for j, m in enumerate(SIM_METRICS)}
N, SEED = 60, 3


def twins(warmup: int = 3) -> tuple[SimulatedCloud, SimulatedCloud]:
    a = SimulatedCloud.generate(N, seed=SEED, start_ts=T0)
    b = SimulatedCloud.generate(N, seed=SEED, start_ts=T0)
    a.run(warmup)
    b.run(warmup)
    return a, b


def first(sim: SimulatedCloud, kind: str, pred: Callable[[str], bool] = lambda _: True) -> str:
    return next(r.id for r in sim.resources if r.kind == kind and pred(r.id))


def value(frame: SampleFrame, node: str, metric: str) -> float:
    return float(frame.values[frame.resource_ids.index(node), COL[metric]])


def changed_nodes(a: SampleFrame, b: SampleFrame) -> set[str]:
    rows = np.flatnonzero((a.values != b.values).any(axis=1))
    return {a.resource_ids[i] for i in rows.tolist()}


def calls_into(sim: SimulatedCloud, node: str) -> list[str]:
    return sim.graph.callers(node, DependencyKind.CALLS)


def test_cpu_hog() -> None:
    a, b = twins()
    vm = first(a, "ec2")
    a.inject(FaultKind.CPU_HOG, vm)
    fa, fb = a.step(), b.step()
    assert value(fa, vm, "cpu") > value(fb, vm, "cpu") + 40
    assert value(fa, vm, "latency_ms") > value(fb, vm, "latency_ms")
    asg = a.graph.callers(vm, DependencyKind.MEMBER)[0]
    assert value(fa, asg, "cpu") > value(fb, asg, "cpu")


def test_memory_leak_ramps_then_errors() -> None:
    a, b = twins()
    vm = first(a, "ec2")
    a.inject(FaultKind.MEMORY_LEAK, vm)
    fa, fb = a.run(12), b.run(12)
    mem = [value(f, vm, "memory") for f in fa]
    assert mem[0] > value(fb[0], vm, "memory") + 5
    assert mem[0] < mem[2] < mem[5]
    assert mem[-1] > 95
    assert value(fa[-1], vm, "error_rate") > 5 * value(fb[-1], vm, "error_rate")


def test_latency_injection_reaches_callers() -> None:
    a, b = twins()
    db = "db-1"
    a.inject(FaultKind.LATENCY_INJECTION, db)
    fa, fb = a.step(), b.step()
    assert value(fa, db, "latency_ms") > value(fb, db, "latency_ms") + 200
    for caller in calls_into(a, db):
        assert value(fa, caller, "latency_ms") > value(fb, caller, "latency_ms") + 100


def test_error_burst() -> None:
    a, b = twins()
    fn = first(a, "lambda")
    a.inject(FaultKind.ERROR_BURST, fn)
    fa, fb = a.step(), b.step()
    assert value(fa, fn, "error_rate") > value(fb, fn, "error_rate") + 0.2
    for caller in calls_into(a, fn):
        assert value(fa, caller, "error_rate") > value(fb, caller, "error_rate") + 0.02


def test_traffic_spike_flows_down() -> None:
    a, b = twins()
    elb = first(a, "elb", lambda i: not i.startswith("k8s"))
    record = a.inject(FaultKind.TRAFFIC_SPIKE, elb)
    fa, fb = a.step(), b.step()
    assert value(fa, elb, "request_count") > 2.5 * value(fb, elb, "request_count")
    downstream = a.graph.downstream(elb)
    asg = elb.removesuffix("-elb") + "-asg"
    assert set(record.affected) == {elb, asg} | downstream
    for node in downstream:
        assert value(fa, node, "request_count") > value(fb, node, "request_count")
        if a.graph.resources[node].kind in (ResourceKind.EC2, ResourceKind.LAMBDA):
            assert value(fa, node, "cpu") > value(fb, node, "cpu") + 10


def test_dependency_outage_breaks_callers() -> None:
    a, b = twins()
    db = "db-1"
    a.inject(FaultKind.DEPENDENCY_OUTAGE, db)
    fa, fb = a.step(), b.step()
    assert value(fa, db, "error_rate") > 0.9
    assert value(fa, db, "latency_ms") > value(fb, db, "latency_ms") + 1000
    for caller in calls_into(a, db):
        assert value(fa, caller, "error_rate") > 0.5
        assert value(fa, caller, "latency_ms") > value(fb, caller, "latency_ms") + 1000


def test_disk_full() -> None:
    a, b = twins()
    db = "db-1"
    a.inject(FaultKind.DISK_FULL, db)
    fa, fb = a.run(2), b.run(2)
    assert value(fa[1], db, "disk") > 99
    assert value(fa[1], db, "error_rate") > value(fb[1], db, "error_rate") + 0.2
    assert value(fa[1], calls_into(a, db)[0], "error_rate") > value(fb[1], db, "error_rate")


def test_misconfiguration_fails_fast() -> None:
    a, b = twins()
    fn = first(a, "lambda")
    a.inject(FaultKind.MISCONFIGURATION, fn)
    fa, fb = a.step(), b.step()
    assert value(fa, fn, "error_rate") > value(fb, fn, "error_rate") + 0.3
    assert value(fa, fn, "latency_ms") < value(fb, fn, "latency_ms")
    for caller in calls_into(a, fn):
        assert value(fa, caller, "error_rate") > value(fb, caller, "error_rate")
    for callee in a.graph.callees(fn):
        assert value(fa, callee, "request_count") < value(fb, callee, "request_count")


@pytest.mark.parametrize(
    ("kind", "node_kind"),
    [
        (FaultKind.CPU_HOG, "ec2"),
        (FaultKind.LATENCY_INJECTION, "rds"),
        (FaultKind.ERROR_BURST, "lambda"),
        (FaultKind.DEPENDENCY_OUTAGE, "cache"),
        (FaultKind.DISK_FULL, "k8s_pod"),
    ],
)
def test_ground_truth_is_exactly_what_moves(kind: FaultKind, node_kind: str) -> None:
    a, b = twins()
    node = first(a, node_kind)
    record = a.inject(kind, node)
    fa, fb = a.run(2), b.run(2)
    assert record.affected[0] == node
    assert set(record.affected) == {node} | a.graph.upstream(node)
    assert changed_nodes(fa[1], fb[1]) == set(record.affected)


def test_record_fields() -> None:
    a, _ = twins()
    now = a.now
    record = a.inject(FaultKind.ERROR_BURST, "db-1", duration_s=120, intensity=1.5)
    assert isinstance(record, FaultRecord)
    assert record.id == "fault-0001" and record.kind is FaultKind.ERROR_BURST
    assert (record.start_ts, record.end_ts) == (now, now + 120)
    assert record.cleared_ts is None and record.cleared_by is None
    assert record.params["intensity"] == 1.5
    assert a.faults == [record] and a.active_faults() == [record]
    assert a.inject(FaultKind.CPU_HOG, first(a, "ec2")).id == "fault-0002"


def test_default_durations_are_a_few_steps() -> None:
    a, _ = twins()
    for kind, node_kind in [(FaultKind.CPU_HOG, "ec2"), (FaultKind.DEPENDENCY_OUTAGE, "rds")]:
        rec = a.inject(kind, first(a, node_kind))
        assert 3 * 60 <= rec.end_ts - rec.start_ts <= 15 * 60


def test_expiry_restores_the_twin() -> None:
    a, b = twins()
    a.inject(FaultKind.LATENCY_INJECTION, "db-1", duration_s=180)
    fa, fb = a.run(5), b.run(5)
    assert all(not np.array_equal(x.values, y.values) for x, y in zip(fa[:3], fb[:3], strict=True))
    assert all(np.array_equal(x.values, y.values) for x, y in zip(fa[3:], fb[3:], strict=True))
    (record,) = a.faults
    assert record.cleared_by == "expired" and record.cleared_ts == record.end_ts
    assert a.active_faults() == []


def test_scale_out_lowers_member_cpu_and_scale_in_raises_it() -> None:
    a, b = twins()
    c = SimulatedCloud.generate(N, seed=SEED, start_ts=T0)
    c.run(3)
    asg = first(a, "asg", lambda i: len(a.members(i)) >= 2)
    members = a.members(asg)
    before = a.desired_capacity(asg)
    out = a.apply_action(ActionKind.SCALE_OUT, asg, {"count": 2})
    assert out.ok and a.desired_capacity(asg) == before + 2
    assert out.details["desired_after"] == before + 2
    inn = c.apply_action("scale_in", asg)
    assert inn.ok and c.desired_capacity(asg) == before - 1
    fa, fb, fc = a.step(), b.step(), c.step()
    for m in [*members, asg]:
        assert value(fa, m, "cpu") < value(fb, m, "cpu") < value(fc, m, "cpu")


def test_scaling_a_k8s_service() -> None:
    a, b = twins()
    svc = first(a, "k8s_service")
    assert a.apply_action(ActionKind.SCALE_OUT, svc, {"count": 3}).ok
    fa, fb = a.step(), b.step()
    for pod in a.members(svc):
        assert value(fa, pod, "cpu") < value(fb, pod, "cpu")


def test_scale_in_below_minimum_is_refused() -> None:
    a, _ = twins()
    asg = first(a, "asg")
    out = a.apply_action(ActionKind.SCALE_IN, asg, {"count": a.desired_capacity(asg)})
    assert not out.ok and "outside" in out.message
    assert a.desired_capacity(asg) == len(a.members(asg))
    with pytest.raises(InvalidInputError) as err:
        a.apply_action(ActionKind.SCALE_OUT, asg, {"count": 0})
    assert err.value.field == "params.count"


def test_restart_clears_leak_and_hog() -> None:
    a, b = twins()
    vm = first(a, "ec2")
    leak = a.inject(FaultKind.MEMORY_LEAK, vm)
    hog = a.inject(FaultKind.CPU_HOG, vm)
    a.run(4)
    b.run(4)
    assert value(a.step(), vm, "memory") > value(b.step(), vm, "memory") + 20
    out = a.apply_action(ActionKind.RESTART, vm)
    assert out.ok and out.cleared_faults == [leak.id, hog.id]
    assert leak.cleared_by == "action:restart" and leak.cleared_ts == a.now
    assert np.array_equal(a.step().values, b.step().values)
    assert a.active_faults() == []


def test_failover_restores_database() -> None:
    a, b = twins()
    outage = a.inject(FaultKind.DEPENDENCY_OUTAGE, "db-1")
    assert value(a.step(), "db-1", "error_rate") > 0.9
    b.step()
    out = a.apply_action(ActionKind.FAILOVER, "db-1")
    assert out.cleared_faults == [outage.id]
    fa, fb = a.step(), b.step()
    assert value(fa, "db-1", "error_rate") < 0.05
    assert np.array_equal(fa.values, fb.values)


def test_rollback_clears_misconfiguration_only() -> None:
    a, b = twins()
    fn = first(a, "lambda")
    bad = a.inject(FaultKind.MISCONFIGURATION, fn)
    a.step()
    b.step()
    assert a.apply_action(ActionKind.ROLLBACK, fn).cleared_faults == [bad.id]
    assert np.array_equal(a.step().values, b.step().values)
    nothing = a.apply_action(ActionKind.ROLLBACK, fn)
    assert nothing.ok and nothing.cleared_faults == []
    assert [o.action for o in a.actions] == [ActionKind.ROLLBACK, ActionKind.ROLLBACK]


def test_action_does_not_clear_other_faults() -> None:
    a, _ = twins()
    vm = first(a, "ec2")
    burst = a.inject(FaultKind.ERROR_BURST, vm)
    assert a.apply_action(ActionKind.RESTART, vm).cleared_faults == []
    assert a.active_faults() == [burst]


@pytest.mark.parametrize(
    ("kind", "node_kind"),
    [
        (FaultKind.DEPENDENCY_OUTAGE, "ec2"),
        (FaultKind.TRAFFIC_SPIKE, "rds"),
        (FaultKind.DISK_FULL, "lambda"),
        (FaultKind.CPU_HOG, "asg"),
        (FaultKind.MISCONFIGURATION, "s3"),
    ],
)
def test_fault_on_unsuitable_kind(kind: FaultKind, node_kind: str) -> None:
    a, _ = twins(0)
    with pytest.raises(InvalidInputError) as err:
        a.inject(kind, first(a, node_kind))
    assert err.value.field == "kind"
    assert a.faults == []


def test_bad_fault_inputs() -> None:
    a, _ = twins(0)
    with pytest.raises(InvalidInputError) as err:
        a.inject(FaultKind.CPU_HOG, "no-such-node")
    assert err.value.field == "node"
    with pytest.raises(InvalidInputError) as err:
        a.inject("meteor_strike", "db-1")
    assert err.value.field == "kind"
    with pytest.raises(InvalidInputError) as err:
        a.inject(FaultKind.ERROR_BURST, "db-1", duration_s=0)
    assert err.value.field == "duration_s"
    with pytest.raises(InvalidInputError) as err:
        a.inject(FaultKind.ERROR_BURST, "db-1", intensity=float("nan"))
    assert err.value.field == "intensity"
    assert a.faults == []


@pytest.mark.parametrize(
    ("kind", "node_kind"),
    [
        (ActionKind.SCALE_OUT, "ec2"),
        (ActionKind.RESTART, "rds"),
        (ActionKind.FAILOVER, "lambda"),
        (ActionKind.ROLLBACK, "asg"),
    ],
)
def test_action_on_unsuitable_kind(kind: ActionKind, node_kind: str) -> None:
    a, _ = twins(0)
    with pytest.raises(InvalidInputError) as err:
        a.apply_action(kind, first(a, node_kind))
    assert err.value.field == "kind"
    assert a.actions == []


def test_action_on_unknown_node() -> None:
    a, _ = twins(0)
    with pytest.raises(InvalidInputError) as err:
        a.apply_action(ActionKind.RESTART, "nope")
    assert err.value.field == "node"
    with pytest.raises(InvalidInputError) as err:
        a.apply_action("reboot_everything", "db-1")
    assert err.value.field == "kind"


def test_an_action_takes_its_delay_to_act_and_the_metrics_are_untouched_meanwhile() -> None:
    a = SimulatedCloud.generate(N, seed=SEED, start_ts=T0, action_delay_s=120.0)
    b = SimulatedCloud.generate(N, seed=SEED, start_ts=T0, action_delay_s=120.0)
    vm = first(a, "ec2")
    hog, twin = a.inject(FaultKind.CPU_HOG, vm), b.inject(FaultKind.CPU_HOG, vm)
    a.step(), b.step()
    out = a.apply_action(ActionKind.RESTART, vm)
    assert out.ok and out.cleared_faults == [] and out.details["effective_ts"] == a.now + 120
    assert "takes effect in 120 s" in out.message
    # Until it acts, the estate is the twin's, fault included.
    for _ in range(2):
        assert np.array_equal(a.step().values, b.step().values)
    assert hog.cleared_by is None
    a.step(), b.step()
    assert hog.cleared_by == "action:restart" and hog.cleared_ts == T0 + 3 * 60
    assert twin.cleared_by is None


def test_actions_fail_at_the_configured_rate_and_change_nothing_when_they_do() -> None:
    a = SimulatedCloud.generate(N, seed=SEED, start_ts=T0, action_failure_rate=0.3)
    asg = first(a, "asg")
    before = a.desired_capacity(asg)
    outcomes = [a.apply_action(ActionKind.ROLLBACK, first(a, "lambda")) for _ in range(400)]
    failed = [o for o in outcomes if not o.ok]
    assert 0.22 < len(failed) / len(outcomes) < 0.38
    assert all("failed: the provider returned an error" in o.message for o in failed)
    # A failed scaling request leaves the capacity alone; the refusals still come first.
    while a.apply_action(ActionKind.SCALE_OUT, asg).ok:
        before += 1
    assert a.desired_capacity(asg) == before
    with pytest.raises(InvalidInputError, match="between 0 and 1"):
        SimulatedCloud.generate(N, seed=SEED, start_ts=T0, action_failure_rate=1.5)
