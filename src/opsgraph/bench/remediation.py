"""`opsgraph bench remediation`: what automated remediation saves, on simulated incidents.

The same schedule of faults (every fault kind, on random nodes it can hit) runs twice through
the real pipeline — simulated cloud, detection, alert lifecycle, incidents — once without
remediation and once with the shipped policy set (`act/policies/estate.yaml`) in auto mode,
acting through the simulator's closed loop. Every episode has the same length in both runs, so
both see the same load at the same data time.

Per fault: time to recovery (TTR) is from the fault's start to the moment no node it affected
has an open anomaly any more (as opsgraph sees it); a fault nobody noticed recovers when it
ends. A fault is *remediable* when some action of the simulator cures that fault on that kind
of node (the simulator's own tables say which); it is *auto-resolved* when an action planned by
a policy cured it (ground truth: the simulator records what cleared each fault) and passed
verification. Every executed action is checked again, independently of the guardrails that
planned it, against its policy's bounds (see `bounds.py`).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from opsgraph.act.executors import SIM_KINDS
from opsgraph.act.policy import SHIPPED_POLICIES, load_policies
from opsgraph.alerts.grouping import likely_root
from opsgraph.bench.remediation_bounds import out_of_bounds
from opsgraph.core.errors import InvalidInputError
from opsgraph.runtime.root import Runtime
from opsgraph.runtime.settings import Settings
from opsgraph.sim import FaultKind, FaultRecord
from opsgraph.sim.faults import ACTION_CLEARS, ACTION_TARGETS, ActionKind
from opsgraph.store._automation import ActionStatus

#: Steps after a fault ends in which a new anomaly on a node it affected is still its doing.
GRACE_STEPS = 2
#: Data time of the first step (Sunday 2025-06-15 15:06 UTC): every run sees the same load.
START_TS = 1_750_000_000.0
#: The policy set the benchmark runs; operators can start from it too.
POLICIES = SHIPPED_POLICIES


def remediable(kind: FaultKind, node_kind: str) -> bool:
    """Whether some simulator action cures `kind` on a node of `node_kind`."""
    return any(
        kind in ACTION_CLEARS[action] and node_kind in ACTION_TARGETS[action]
        for action in ACTION_CLEARS
    )


@dataclass(slots=True)
class Episode:
    """One fault and what became of it in one run."""

    kind: str
    root: str
    root_kind: str
    remediable: bool
    start_ts: float
    planned_end_ts: float
    cleared_by: str
    detected: bool
    ttr_s: float
    recovered: bool  # False: anomalies still open when the episode ended (TTR is a floor)
    auto_resolved: bool = False
    actions: list[str] = field(default_factory=list)
    #: Executed actions that could not help: on a resource without the injected fault, or of
    #: a kind that cannot cure it there (each with the reason).
    unsafe: list[str] = field(default_factory=list)
    incident_ids: list[int] = field(default_factory=list)
    #: The first incident's root as the live path ranked it, its confidence, and the first
    #: guess it replaced (the first anomaly to start, `alerts/grouping.py`).
    ranked_root: str | None = None
    root_confidence: float | None = None
    first_to_start: str | None = None


@dataclass(slots=True)
class ArmResult:
    remediate: bool
    episodes: list[Episode]
    actions: int
    action_statuses: dict[str, int]
    out_of_bounds: list[str]
    wall_s: float
    #: Executed actions of no fault's incident (a false alarm acted on).
    stray: list[str] = field(default_factory=list)


def _settings(data_dir: Path, resources: int, seed: int, remediate: bool) -> Settings:
    return Settings(
        data_dir=data_dir,
        # One-minute steps: the schedule and its figures count minutes (the demo samples
        # every 15 s).
        sim={"resources": resources, "seed": seed, "preroll_steps": 150, "step_s": 60.0},
        auth={"enabled": False},
        automation={
            "policy_dir": POLICIES if remediate else None,
            "tick_s": 0,
            "backoff_s": 0,
        },
    )


def _inject(runtime: Runtime, kind: FaultKind, rng: random.Random) -> FaultRecord:
    sim = runtime.simulation.require()
    nodes = sorted(r.id for r in sim.resources)
    for node in rng.sample(nodes, k=len(nodes)):
        try:
            return runtime.simulation.inject_fault(
                kind, node, actor="bench", reason="bench remediation"
            )
        except InvalidInputError:
            continue
    raise InvalidInputError("kind", f"no node of the simulated estate accepts {kind.value}")


def run_arm(
    *,
    remediate: bool,
    resources: int,
    seed: int,
    incidents: int,
    episode_steps: int,
    data_dir: Path,
) -> ArmResult:
    """One run of the fault schedule, with or without remediation."""

    started = time.perf_counter()
    runtime = Runtime(_settings(data_dir, resources, seed, remediate))
    try:
        sim = runtime.simulation.start(start_ts=START_TS)  # fixed: the same load in every run
        automation = runtime.automation if remediate else None
        kinds = list(FaultKind)
        rng = random.Random(seed)
        kind_of = {r.id: r.kind.value for r in sim.resources}
        faults: list[FaultRecord] = []
        for n in range(incidents):
            fault = _inject(runtime, kinds[n % len(kinds)], rng)
            faults.append(fault)
            for _ in range(episode_steps):
                runtime.simulation.step()
                if automation is not None:
                    automation.drain()  # an action takes less than one step (a minute)
                    automation.tick()
        episodes = _episodes(runtime, faults, kind_of, sim.now)
        records, _ = runtime.store.list_actions(limit=100_000)
        of_faults = {i for e in episodes for i in e.incident_ids}
        stray = [
            f"{r.action} on {r.target} (incident #{r.incident_id}): no injected fault"
            for r in records
            if r.result.get("steps")
            and r.status is not ActionStatus.DRY_RUN
            and r.incident_id not in of_faults
        ]
        statuses: dict[str, int] = {}
        for r in records:
            statuses[r.status.value] = statuses.get(r.status.value, 0) + 1
        policies = load_policies(POLICIES) if remediate else []
        bad = out_of_bounds(
            records, policies, runtime.estate.resources, runtime.estate.dependencies
        )
        executed = sum(1 for r in records if r.result.get("steps"))
        return ArmResult(
            remediate=remediate,
            episodes=episodes,
            actions=executed,
            action_statuses=statuses,
            out_of_bounds=bad,
            wall_s=time.perf_counter() - started,
            stray=stray,
        )
    finally:
        runtime.close()


def _episodes(
    runtime: Runtime, faults: list[FaultRecord], kind_of: dict[str, str], end_ts: float
) -> list[Episode]:
    store = runtime.store
    step_s = runtime.simulation.require().step_s
    anomalies, _ = store.list_anomalies(limit=1_000_000)
    actions, _ = store.list_actions(limit=100_000)
    out: list[Episode] = []
    for i, fault in enumerate(faults):
        until = faults[i + 1].start_ts if i + 1 < len(faults) else end_ts
        affected = set(fault.affected)
        cleared_ts = fault.cleared_ts if fault.cleared_ts is not None else fault.end_ts
        # Anomalies that start while the fault acts (or within GRACE_STEPS after) are its own;
        # later ones on the same nodes are other trouble (or false alarms), not its recovery.
        last_start = min(cleared_ts + GRACE_STEPS * step_s, until)
        own = [
            a
            for a in anomalies
            if a.resource_id in affected and fault.start_ts <= a.start_ts < last_start
        ]
        recovered = all(a.end_ts is not None for a in own)
        if own:
            last = max((a.end_ts if a.end_ts is not None else until) for a in own)
            ttr = max(last, min(cleared_ts, until)) - fault.start_ts
        else:
            ttr = min(cleared_ts, until) - fault.start_ts
        incident_ids = {a.incident_id for a in own if a.incident_id is not None}
        mine = [a for a in actions if a.incident_id in incident_ids]
        ranked_root = confidence = guess = None
        if incident_ids:
            first = store.get_incident(min(incident_ids))
            assert first.id is not None
            ranked_root, confidence = first.root_resource_id, first.root_confidence
            members = store.incident_anomalies(first.id)
            guess = likely_root(members, runtime.alerts.topology()) if members else None
        cured_by = [
            a
            for a in mine
            # Ground truth: the simulator says which kind of action cleared the fault (actions
            # take effect after `sim.action_delay_s`, so the executor's answer cannot say).
            if a.target == fault.root
            and a.status is ActionStatus.SUCCEEDED
            and fault.cleared_by == f"action:{SIM_KINDS.get(a.action)}"
        ]
        unsafe = [
            why
            for a in mine
            if a.result.get("steps") and a.status is not ActionStatus.DRY_RUN
            for why in [_unsafe(a.action, a.target, fault, kind_of)]
            if why is not None
        ]
        out.append(
            Episode(
                kind=fault.kind.value,
                root=fault.root,
                root_kind=kind_of[fault.root],
                remediable=remediable(fault.kind, kind_of[fault.root]),
                start_ts=fault.start_ts,
                planned_end_ts=fault.end_ts,
                cleared_by=fault.cleared_by or "still active",
                detected=bool(own),
                ttr_s=ttr,
                recovered=recovered,
                auto_resolved=any(a.status is ActionStatus.SUCCEEDED for a in cured_by),
                actions=[f"{a.action}:{a.target}:{a.status.value}" for a in mine],
                unsafe=unsafe,
                incident_ids=sorted(incident_ids),
                ranked_root=ranked_root,
                root_confidence=confidence,
                first_to_start=guess,
            )
        )
    return out


def _unsafe(
    action: str, target: str | None, fault: FaultRecord, kind_of: dict[str, str]
) -> str | None:
    """Why an executed action could not cure its fault (None when it could): ground truth from
    the simulator's fault record and cure tables, not from the policies."""
    if target != fault.root:
        return f"{action} on {target}: the fault ({fault.kind.value}) is on {fault.root}"
    sim_kind = SIM_KINDS.get(action)
    cures = ACTION_CLEARS.get(ActionKind(sim_kind), frozenset()) if sim_kind else frozenset()
    if fault.kind not in cures:
        return f"{action} on {target}: cannot cure {fault.kind.value}"
    return None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _cut(without: list[float], with_: list[float]) -> float | None:
    a, b = _mean(without), _mean(with_)
    return None if a is None or b is None or a == 0 else 1.0 - b / a


def summarize(without: ArmResult, with_: ArmResult) -> dict[str, Any]:
    """MTTR with and without, per fault kind and overall; the auto-resolved share."""
    pairs = list(zip(without.episodes, with_.episodes, strict=True))
    rem = [(a, b) for a, b in pairs if b.remediable]
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in FaultKind:
        ks = [(a, b) for a, b in pairs if a.kind == kind.value]
        kr = [b for _, b in ks if b.remediable]
        by_kind[kind.value] = {
            "incidents": len(ks),
            "remediable": len(kr),
            "detected": sum(1 for _, b in ks if b.detected),
            "mttr_without_s": _mean([a.ttr_s for a, _ in ks]),
            "mttr_with_s": _mean([b.ttr_s for _, b in ks]),
            "mttr_cut": _cut([a.ttr_s for a, _ in ks], [b.ttr_s for _, b in ks]),
            "auto_resolved": sum(1 for b in kr if b.auto_resolved),
        }
    auto = sum(1 for _, b in rem if b.auto_resolved)
    return {
        "incidents": len(pairs),
        "remediable": len(rem),
        "detected_without": sum(1 for a, _ in pairs if a.detected),
        "detected_with": sum(1 for _, b in pairs if b.detected),
        "mttr_without_s": _mean([a.ttr_s for a, _ in pairs]),
        "mttr_with_s": _mean([b.ttr_s for _, b in pairs]),
        "mttr_cut": _cut([a.ttr_s for a, _ in pairs], [b.ttr_s for _, b in pairs]),
        "mttr_remediable_without_s": _mean([a.ttr_s for a, _ in rem]),
        "mttr_remediable_with_s": _mean([b.ttr_s for _, b in rem]),
        "mttr_remediable_cut": _cut([a.ttr_s for a, _ in rem], [b.ttr_s for _, b in rem]),
        "auto_resolved": auto,
        "auto_resolved_share": auto / len(rem) if rem else None,
        "unrecovered_without": sum(1 for a, _ in pairs if not a.recovered),
        "unrecovered_with": sum(1 for _, b in pairs if not b.recovered),
        "actions_executed": with_.actions,
        "action_statuses": with_.action_statuses,
        "out_of_bounds": len(with_.out_of_bounds),
        # Target 0: an action on a resource without the injected fault, of a kind that cannot
        # cure it, or on an incident of no fault at all.
        "unsafe_actions": sum(len(b.unsafe) for _, b in pairs) + len(with_.stray),
        "unsafe_detail": ([u for _, b in pairs for u in b.unsafe] + with_.stray)[:30],
        "out_of_bounds_detail": with_.out_of_bounds[:20],
        "by_kind": by_kind,
        "live_root": _live_root([a for a, _ in pairs]),
    }


def _live_root(episodes: list[Episode]) -> dict[str, Any]:
    """How often the live path's ranked root is the injected fault's root (episodes of the run
    without remediation, so no action changes what the ranker sees), beside the first guess
    it replaces, and among the incidents ranked confidently enough for `target: root`."""
    seen = [e for e in episodes if e.incident_ids]
    ranked = [e for e in seen if e.root_confidence is not None]
    sure = [e for e in ranked if (e.root_confidence or 0.0) >= 0.5]

    def share(items: list[Episode], hit: Callable[[Episode], bool]) -> float | None:
        return round(sum(1 for e in items if hit(e)) / len(items), 4) if items else None

    return {
        "faults_with_incident": len(seen),
        "ranked": len(ranked),
        "top1": share(ranked, lambda e: e.ranked_root == e.root),
        "first_to_start_top1": share(seen, lambda e: e.first_to_start == e.root),
        "confident": len(sure),
        "confident_top1": share(sure, lambda e: e.ranked_root == e.root),
        "mean_confidence": round(sum(e.root_confidence or 0.0 for e in ranked) / len(ranked), 4)
        if ranked
        else None,
    }


def run_remediation_bench(
    *,
    resources: int = 60,
    seeds: tuple[int, ...] = (1, 2),
    incidents: int = 64,
    episode_steps: int = 40,
) -> dict[str, Any]:
    """Both runs over each topology (one per seed); the figures pooled over all of them."""
    if incidents < len(FaultKind):
        raise InvalidInputError("incidents", f"must be at least {len(FaultKind)} (every kind)")
    if episode_steps < 20:
        raise InvalidInputError("episode_steps", "must be at least 20 steps")
    arms: dict[bool, list[ArmResult]] = {False: [], True: []}
    with tempfile.TemporaryDirectory(prefix="opsgraph-bench-remediation-") as tmp:
        for seed in seeds:
            for remediate in (False, True):
                arms[remediate].append(
                    run_arm(
                        remediate=remediate,
                        resources=resources,
                        seed=seed,
                        incidents=incidents,
                        episode_steps=episode_steps,
                        data_dir=Path(tmp) / f"seed{seed}-{'with' if remediate else 'without'}",
                    )
                )
    pooled = {
        r: ArmResult(
            remediate=r,
            episodes=[e for a in runs for e in a.episodes],
            actions=sum(a.actions for a in runs),
            action_statuses={
                k: sum(a.action_statuses.get(k, 0) for a in runs)
                for k in sorted({k for a in runs for k in a.action_statuses})
            },
            out_of_bounds=[x for a in runs for x in a.out_of_bounds],
            wall_s=sum(a.wall_s for a in runs),
        )
        for r, runs in arms.items()
    }
    return {
        "config": {
            "resources": resources,
            "seeds": list(seeds),
            "incidents_per_topology": incidents,
            "episode_steps": episode_steps,
            "step_s": 60.0,
            "policies": str(POLICIES),
        },
        "summary": summarize(pooled[False], pooled[True]),
        "wall_s": {"without": pooled[False].wall_s, "with": pooled[True].wall_s},
        "episodes": {
            "without": [asdict(e) for e in pooled[False].episodes],
            "with": [asdict(e) for e in pooled[True].episodes],
        },
    }
