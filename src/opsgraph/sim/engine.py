"""The simulated cloud: every metric of every resource per step, faults injected, actions taken.

Deterministic by seed; each step is a handful of numpy passes over the graph's levels.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.graph import ResourceGraph
from opsgraph.core.metrics import SIM_METRICS
from opsgraph.core.models import Dependency, DependencyKind, Resource, SampleFrame
from opsgraph.sim.faults import (
    ACTION_CLEARS,
    ACTION_TARGETS,
    DEFAULT_DURATION_S,
    DOWNSTREAM_FAULTS,
    FAULT_TARGETS,
    MAX_INTENSITY,
    ActionKind,
    ActionOutcome,
    FaultKind,
    FaultRecord,
    compute_effects,
    fault_params,
)
from opsgraph.sim.flow import FlowGraph, NodeParams
from opsgraph.sim.topology import generate_topology
from opsgraph.sim.workload import DAY_S, REGION_UTC_OFFSET_H, Calendar, Workload

FloatArray = npt.NDArray[np.float64]

_CPU, _MEM, _LAT, _ERR, _REQ, _NET_IN, _NET_OUT, _DISK = range(len(SIM_METRICS))
#: CPU points a node burns at full utilisation on top of its idle CPU.
CPU_SPAN = 85.0
#: Bytes per second of heartbeats, metrics and logs every node sends and receives.
BACKGROUND_BYTES = 2_000.0


class SimulatedCloud:
    """A cloud estate whose metrics follow load, seasonality, faults and remediation actions."""

    metrics: tuple[str, ...] = SIM_METRICS

    def __init__(
        self,
        resources: Iterable[Resource],
        dependencies: Iterable[Dependency],
        *,
        seed: int,
        start_ts: float,
        step_s: float = 60.0,
        calendar: Calendar | None = None,
        action_delay_s: float = 0.0,
        action_failure_rate: float = 0.0,
    ) -> None:
        if not (math.isfinite(action_delay_s) and action_delay_s >= 0):
            raise InvalidInputError("action_delay_s", "must be a non-negative number of seconds")
        if not 0.0 <= action_failure_rate <= 1.0:
            raise InvalidInputError("action_failure_rate", "must be between 0 and 1")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise InvalidInputError("seed", "must be a non-negative integer")
        if not math.isfinite(start_ts):
            raise InvalidInputError("start_ts", "must be a finite number")
        if not (math.isfinite(step_s) and step_s > 0):
            raise InvalidInputError("step_s", "must be a positive number of seconds")
        self.resources: list[Resource] = list(resources)
        self.dependencies: list[Dependency] = list(dependencies)
        if not self.resources:
            raise InvalidInputError("resources", "must not be empty")
        self._flow = FlowGraph(self.resources, self.dependencies)
        self.graph = ResourceGraph(self.resources, self.dependencies)
        self.seed = seed
        self.now = float(start_ts)
        self.step_s = float(step_s)
        self.calendar = calendar if calendar is not None else Calendar.generate(seed, start_ts)
        self.faults: list[FaultRecord] = []
        # faults not yet cleared, so a long run does not rescan its whole history every step
        self._live: list[FaultRecord] = []
        self.actions: list[ActionOutcome] = []
        #: Actions take this long to act, and fail (reported) with this probability.
        self.action_delay_s = float(action_delay_s)
        self.action_failure_rate = float(action_failure_rate)
        # Its own stream: failures never shift the metrics' noise.
        self._action_rng = np.random.default_rng([seed, 0xAC7])
        # Accepted actions that take effect later: (due ts, kind, node, params).
        self._pending: list[tuple[float, ActionKind, str, dict[str, Any]]] = []
        self._rng = np.random.default_rng([seed, 0x51A1])
        self._p = NodeParams.from_resources(self.resources, self._flow)

        self._entry = np.flatnonzero(self._p.base_rps > 0)
        offsets = np.array([REGION_UTC_OFFSET_H.get(r.region, 0.0) for r in self.resources])
        self._workload = Workload(
            self._p.base_rps[self._entry],
            offsets[self._entry],
            self._p.seasonality[self._entry],
            self._p.calendar_sensitivity[self._entry],
            self.calendar,
            step_s=self.step_s,
        )
        self._desired = np.array(
            [self._desired_attr(self.resources[g], size) for g, size in self._group_sizes()],
            dtype=np.float64,
        )
        self._capacity = self._p.capacity_rps.copy()
        self._refresh_capacity()

    @classmethod
    def generate(
        cls,
        n_resources: int,
        *,
        seed: int,
        start_ts: float,
        step_s: float = 60.0,
        action_delay_s: float = 0.0,
        action_failure_rate: float = 0.0,
    ) -> SimulatedCloud:
        """A generated estate of exactly `n_resources` nodes and a calendar drawn from the seed."""
        resources, dependencies = generate_topology(n_resources, seed)
        return cls(
            resources,
            dependencies,
            seed=seed,
            start_ts=start_ts,
            step_s=step_s,
            action_delay_s=action_delay_s,
            action_failure_rate=action_failure_rate,
        )

    # -- stepping ---------------------------------------------------------------------------

    @property
    def resource_ids(self) -> tuple[str, ...]:
        return self._flow.ids

    @property
    def entry_points(self) -> list[str]:
        """Nodes that receive external traffic."""
        return [self._flow.ids[i] for i in self._entry.tolist()]

    def step(self) -> SampleFrame:
        """Every metric of every resource at `now`; then `now` moves on by `step_s`."""
        ts = self.now
        self._complete_pending(ts)
        self._expire(ts)
        flow, p, n = self._flow, self._p, self._flow.n
        fx = compute_effects(
            [f for f in self._live if f.active_at(ts)], flow.index, ts, n, self.step_s
        )
        # drawn in a fixed shape whatever the state, so twins differ only by faults and actions
        z = self._rng.standard_normal((n, len(SIM_METRICS)))
        z_ext = self._rng.standard_normal((2, len(self._entry)))

        external = np.zeros(n)
        external[self._entry] = self._workload.rates(ts, z_ext) * fx.ext_mult[self._entry]
        rps, edge_rps = flow.forward(external, fx.fwd)
        util = rps / self._capacity
        # a CPU hog leaves less headroom, so the same load queues longer
        rho = util / np.maximum(0.05, 1.0 - fx.cpu_add / 100.0)

        cpu = (p.idle_cpu + CPU_SPAN * np.minimum(util, 1.0) + fx.cpu_add) * (1.0 - 0.9 * fx.outage)
        cpu = cpu + (0.5 + 0.02 * cpu) * z[:, _CPU]

        mem = p.base_memory + 12.0 * np.minimum(util, 1.0)
        mem = mem + (99.5 - mem) * fx.leak_frac + 0.4 * z[:, _MEM]
        mem = np.clip(mem, 0.0, 100.0)
        # near a full heap, garbage collection stalls requests and the OOM killer fails some
        pressure = np.clip((mem - 90.0) / 10.0, 0.0, 1.0)

        days = (ts / DAY_S) % 10.0
        disk = p.base_disk + 0.2 * days  # logs grow and are rotated away every ten days
        disk = disk + (99.6 - disk) * fx.disk_frac + 0.03 * z[:, _DISK]

        queueing = 1.0 / (1.0 - np.minimum(rho, 0.95)) + 100.0 * np.maximum(rho - 0.95, 0.0)
        lat_own = p.service_ms * queueing * fx.lat_mult * (1.0 + 2.0 * pressure) + fx.lat_add
        lat_own = lat_own * np.exp(0.08 * z[:, _LAT])

        overload = 0.6 * np.clip(1.0 - 1.0 / np.maximum(rho, 1e-9), 0.0, 1.0)
        err_own = p.base_error * np.exp(0.35 * z[:, _ERR]) + (
            fx.err_add + overload + 0.4 * pressure
        ) * (1.0 + 0.03 * z[:, _ERR])
        err_own = np.maximum(err_own, 0.97 * fx.outage * (1.0 + 0.01 * z[:, _ERR]))
        err_own = np.clip(err_own, 0.0, 0.999)

        lat, log_ok = flow.backward(lat_own, np.log1p(-err_own), fx.fwd)

        per_step = rps * self.step_s
        requests = np.maximum(per_step + np.sqrt(per_step) * z[:, _REQ], 0.0)
        tgt = flow.edge_tgt
        net_in = rps * p.req_bytes + flow.edge_sum(edge_rps * p.resp_bytes[tgt])
        net_out = rps * p.resp_bytes * (1.0 - fx.outage) + flow.edge_sum(
            edge_rps * p.req_bytes[tgt]
        )

        values = np.empty((n, len(SIM_METRICS)))
        values[:, _CPU] = np.clip(cpu, 0.0, 100.0)
        values[:, _MEM] = mem
        values[:, _LAT] = lat
        values[:, _ERR] = np.clip(-np.expm1(log_ok), 0.0, 1.0)
        values[:, _REQ] = requests
        values[:, _NET_IN] = (net_in + BACKGROUND_BYTES) * np.exp(0.04 * z[:, _NET_IN])
        values[:, _NET_OUT] = (net_out + BACKGROUND_BYTES) * np.exp(0.04 * z[:, _NET_OUT])
        values[:, _DISK] = np.clip(disk, 0.0, 100.0)
        flow.aggregate_groups(
            values, mean_cols=[_CPU, _MEM, _DISK], sum_cols=[_REQ, _NET_IN, _NET_OUT]
        )
        self.now = ts + self.step_s
        return SampleFrame(ts=ts, resource_ids=flow.ids, metrics=self.metrics, values=values)

    def run(self, steps: int) -> list[SampleFrame]:
        """`steps` consecutive frames."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise InvalidInputError("steps", "must be a non-negative integer")
        return [self.step() for _ in range(steps)]

    # -- faults -----------------------------------------------------------------------------

    def inject(
        self,
        kind: FaultKind | str,
        node: str,
        *,
        duration_s: float | None = None,
        intensity: float = 1.0,
    ) -> FaultRecord:
        """Start a fault at `now` on `node`; it shapes frames until it expires or is cleared."""
        kind = _enum(FaultKind, kind, "kind")
        resource = self._resource(node)
        if resource.kind not in FAULT_TARGETS[kind]:
            allowed = ", ".join(sorted(FAULT_TARGETS[kind]))
            raise InvalidInputError(
                "kind", f"{kind} cannot hit a {resource.kind} node ({node!r}); it needs {allowed}"
            )
        idx = self._flow.index[node]
        if kind is FaultKind.TRAFFIC_SPIKE and self._p.base_rps[idx] <= 0:
            raise InvalidInputError(
                "kind", f"traffic_spike needs an entry point with external traffic; {node!r} is not"
            )
        if duration_s is None:
            duration_s = DEFAULT_DURATION_S[kind]
        if not (
            isinstance(duration_s, int | float) and math.isfinite(duration_s) and duration_s > 0
        ):
            raise InvalidInputError("duration_s", "must be a positive number of seconds")
        if not (
            isinstance(intensity, int | float)
            and math.isfinite(intensity)
            and 0 < intensity <= MAX_INTENSITY
        ):
            raise InvalidInputError("intensity", f"must be above 0 and at most {MAX_INTENSITY}")
        record = FaultRecord(
            id=f"fault-{len(self.faults) + 1:04d}",
            kind=kind,
            root=node,
            start_ts=self.now,
            end_ts=self.now + float(duration_s),
            affected=self._reach(kind, node),
            params=fault_params(kind, float(intensity)),
        )
        self.faults.append(record)
        self._live.append(record)
        return record

    def inject_first(
        self,
        kind: FaultKind | str,
        candidates: Sequence[str],
        *,
        duration_s: float | None = None,
    ) -> FaultRecord | None:
        """Start `kind` on the first of `candidates` it can hit; None when none accepts it."""
        for node in candidates:
            try:
                return self.inject(kind, node, duration_s=duration_s)
            except InvalidInputError:
                continue
        return None

    def active_faults(self) -> list[FaultRecord]:
        """Faults that will shape the next frame (the one at `now`)."""
        self._expire(self.now)
        return [f for f in self._live if f.active_at(self.now)]

    def _expire(self, ts: float) -> None:
        for f in self._live:
            if f.cleared_ts is None and f.end_ts <= ts:
                f.cleared_ts = f.end_ts
                f.cleared_by = "expired"
        self._live = [f for f in self._live if f.cleared_ts is None]

    def _reach(self, kind: FaultKind, node: str) -> list[str]:
        """Ground truth: the root, then the nodes the fault's effect reaches."""
        if kind in DOWNSTREAM_FAULTS:
            reached = self.graph.downstream(node)
            # groups report their members' aggregates, so they move with them
            flow = self._flow
            reached |= {
                flow.ids[g]
                for g, m in zip(flow.member_group.tolist(), flow.member_node.tolist(), strict=True)
                if flow.ids[m] in reached
            }
        else:
            reached = self.graph.upstream(node)
        reached.discard(node)
        return [node, *sorted(reached)]

    # -- actions ----------------------------------------------------------------------------

    def apply_action(
        self, kind: ActionKind | str, node: str, params: dict[str, Any] | None = None
    ) -> ActionOutcome:
        """Act on `node` at `now`: later frames show the effect."""
        kind = _enum(ActionKind, kind, "kind")
        resource = self._resource(node)
        if resource.kind not in ACTION_TARGETS[kind]:
            allowed = ", ".join(sorted(ACTION_TARGETS[kind]))
            raise InvalidInputError(
                "kind",
                f"{kind} cannot act on a {resource.kind} node ({node!r}); it needs {allowed}",
            )
        params = dict(params or {})
        if kind in (ActionKind.SCALE_OUT, ActionKind.SCALE_IN):
            refused = self._scale_refusal(kind, node, params)
            if refused is not None:
                self.actions.append(refused)
                return refused
        rate = self.action_failure_rate
        if rate > 0 and self._action_rng.random() < rate:
            outcome = ActionOutcome(
                action=kind,
                node=node,
                ok=False,
                message=f"{kind} of {node} failed: the provider returned an error "
                f"(simulated failure rate {rate:g})",
                ts=self.now,
                details={"failed": True},
            )
        elif self.action_delay_s > 0:
            due = self.now + self.action_delay_s
            self._pending.append((due, kind, node, params))
            outcome = ActionOutcome(
                action=kind,
                node=node,
                ok=True,
                message=f"{kind} of {node} started; it takes effect in {self.action_delay_s:g} s",
                ts=self.now,
                details={"effective_ts": due},
            )
        else:
            outcome = self._effect(kind, node, params, self.now)
        self.actions.append(outcome)
        return outcome

    def _complete_pending(self, ts: float) -> None:
        """Accepted actions whose time has come take effect (before the frame at `ts`)."""
        if not self._pending:
            return
        due = [p for p in self._pending if p[0] <= ts]
        self._pending = [p for p in self._pending if p[0] > ts]
        for when, kind, node, params in due:
            self._effect(kind, node, params, when)

    def _effect(
        self, kind: ActionKind, node: str, params: dict[str, Any], ts: float
    ) -> ActionOutcome:
        """What an action does to the estate, at `ts`."""
        if kind in (ActionKind.SCALE_OUT, ActionKind.SCALE_IN):
            return self._scale(kind, node, params)
        self._expire(ts)
        cleared = []
        for f in self._live:
            if f.root == node and f.kind in ACTION_CLEARS[kind] and f.active_at(ts):
                f.cleared_ts = ts
                f.cleared_by = f"action:{kind}"
                cleared.append(f.id)
        what = ", ".join(cleared) if cleared else "no active fault"
        self._live = [f for f in self._live if f.cleared_ts is None]
        return ActionOutcome(
            action=kind,
            node=node,
            ok=True,
            message=f"{kind} of {node} done; cleared {what}",
            cleared_faults=cleared,
            ts=ts,
        )

    def members(self, node: str) -> list[str]:
        """Members of a group (asg or k8s service); empty for other nodes."""
        self._resource(node)
        return self.graph.callees(node, DependencyKind.MEMBER)

    def desired_capacity(self, node: str) -> int:
        """Desired member count of a group (asg or k8s service)."""
        slot = self._group_slot(node)
        return int(self._desired[slot])

    def _scale_refusal(
        self, kind: ActionKind, node: str, params: dict[str, Any]
    ) -> ActionOutcome | None:
        """A scaling request refused at once (bad count, outside the group's bounds), or None."""
        out = self._scale(kind, node, params, dry=True)
        return None if out.ok else out

    def _scale(
        self, kind: ActionKind, node: str, params: dict[str, Any], *, dry: bool = False
    ) -> ActionOutcome:
        count = params.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidInputError("params.count", "must be a positive integer")
        slot = self._group_slot(node)
        before = int(self._desired[slot])
        after = before + count if kind is ActionKind.SCALE_OUT else before - count
        attrs = self.resources[self._flow.index[node]].attrs
        low = int(attrs.get("min_capacity", 1))
        high = int(attrs.get("max_capacity", 4 * int(self._flow.group_size[slot])))
        details = {"desired_before": before, "desired_after": before, "min": low, "max": high}
        if not low <= after <= high:
            return ActionOutcome(
                action=kind,
                node=node,
                ok=False,
                message=f"refused: desired capacity {after} is outside [{low}, {high}]",
                ts=self.now,
                details=details,
            )
        if dry:
            return ActionOutcome(action=kind, node=node, ok=True, message="", ts=self.now)
        self._desired[slot] = after
        self._refresh_capacity()
        details["desired_after"] = after
        return ActionOutcome(
            action=kind,
            node=node,
            ok=True,
            message=f"desired capacity of {node}: {before} -> {after}",
            ts=self.now,
            details=details,
        )

    def _refresh_capacity(self) -> None:
        """Members of a group carry its load in proportion desired / actual member count."""
        flow = self._flow
        if not len(flow.groups):
            return
        slot = np.searchsorted(flow.groups, flow.member_group)
        factor = np.ones(flow.n)
        factor[flow.member_node] = (self._desired / flow.group_size)[slot]
        self._capacity = self._p.capacity_rps * factor

    def _group_sizes(self) -> list[tuple[int, int]]:
        flow = self._flow
        return list(zip(flow.groups.tolist(), flow.group_size.astype(int).tolist(), strict=True))

    def _group_slot(self, node: str) -> int:
        g = self._flow.index[node]
        slot = int(np.searchsorted(self._flow.groups, g))
        if slot >= len(self._flow.groups) or self._flow.groups[slot] != g:
            raise InvalidInputError("node", f"{node!r} has no members to scale")
        return slot

    @staticmethod
    def _desired_attr(resource: Resource, size: int) -> float:
        raw = resource.attrs.get("desired_capacity", size)
        integral = isinstance(raw, int | float) and math.isfinite(raw) and float(raw).is_integer()
        if isinstance(raw, bool) or not integral or raw < 1:
            raise InvalidInputError(
                f"resources.{resource.id}.attrs.desired_capacity", "must be a positive integer"
            )
        return float(raw)

    def _resource(self, node: str) -> Resource:
        idx = self._flow.index.get(node) if isinstance(node, str) else None
        if idx is None:
            raise InvalidInputError("node", f"unknown resource {node!r}")
        return self.resources[idx]


_E = TypeVar("_E", FaultKind, ActionKind)


def _enum(cls: type[_E], value: _E | str, field: str) -> _E:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise InvalidInputError(field, f"unknown {field} {value!r}; one of {allowed}") from None
