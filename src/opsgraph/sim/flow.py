"""The simulator's compiled graph: DAG levels, weighted edge arrays, groups and node parameters.

Load flows down the levels and latency and errors flow back up, one numpy pass per level.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Dependency, DependencyKind, Resource, ResourceKind

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_K = ResourceKind

#: Groups aggregate their members' metrics; a k8s service also routes requests to its pods.
GROUP_KINDS = frozenset({_K.ASG, _K.K8S_SERVICE})
#: Kinds that spread each request over their callees instead of calling every one.
BALANCER_KINDS = frozenset({_K.ELB, _K.K8S_SERVICE})
#: Share of a callee's errors a caller passes on: retries and fallbacks hide the rest.
ERROR_PASS_THROUGH = 0.85
#: Daily peak over the mean of the traffic profile, used to size capacity.
PEAK_FACTOR = 1.35


@dataclass(frozen=True, slots=True)
class KindDefaults:
    service_ms: float  # own processing time at no load
    base_error: float  # own error rate at no load
    base_memory: float  # percent
    base_disk: float  # percent
    idle_cpu: float  # percent
    req_bytes: float  # request size
    resp_bytes: float  # response size
    target_util: float  # utilisation at the daily peak when capacity is not given
    base_rps: float  # external traffic when the node is an entry point without one given


KIND_DEFAULTS: dict[ResourceKind, KindDefaults] = {
    _K.ELB: KindDefaults(1.0, 0.0005, 20, 5, 2, 1500, 8000, 0.05, 100),
    _K.EC2: KindDefaults(8.0, 0.001, 45, 35, 5, 1500, 8000, 0.35, 0),
    _K.ASG: KindDefaults(0.0, 0.0, 0, 0, 0, 0, 0, 0.01, 0),
    _K.LAMBDA: KindDefaults(20.0, 0.002, 35, 8, 3, 1200, 4000, 0.35, 0),
    _K.RDS: KindDefaults(4.0, 0.0008, 60, 50, 8, 400, 2000, 0.35, 0),
    _K.S3: KindDefaults(25.0, 0.0005, 10, 5, 1, 500, 50_000, 0.05, 0),
    _K.CACHE: KindDefaults(0.6, 0.0005, 55, 5, 4, 100, 800, 0.35, 0),
    _K.K8S_SERVICE: KindDefaults(0.2, 0.0, 0, 0, 0, 200, 200, 0.01, 0),
    _K.K8S_POD: KindDefaults(6.0, 0.001, 50, 25, 5, 1500, 6000, 0.35, 0),
    _K.GENERIC: KindDefaults(40.0, 0.003, 40, 30, 6, 2000, 2000, 0.4, 2),
}


@dataclass(frozen=True, slots=True)
class LevelEdges:
    """Edges whose source sits at one DAG level."""

    src: IntArray
    tgt: IntArray
    w: FloatArray  # requests sent to tgt per request of src
    w_err: FloatArray  # weight of tgt's log-survival in src's


class FlowGraph:
    """CALLS and MEMBER edges compiled into arrays ordered by DAG level."""

    def __init__(self, resources: Sequence[Resource], dependencies: Sequence[Dependency]) -> None:
        self.ids: tuple[str, ...] = tuple(r.id for r in resources)
        self.index: dict[str, int] = {rid: i for i, rid in enumerate(self.ids)}
        if len(self.index) != len(self.ids):
            seen: set[str] = set()
            for rid in self.ids:
                if rid in seen:
                    raise InvalidInputError("resources", f"duplicate resource id {rid!r}")
                seen.add(rid)
        self.kinds: tuple[ResourceKind, ...] = tuple(r.kind for r in resources)
        n = self.n = len(self.ids)

        edges: dict[tuple[int, int], DependencyKind] = {}
        for i, d in enumerate(dependencies):
            for end in (d.source, d.target):
                if end not in self.index:
                    raise InvalidInputError(f"dependencies[{i}]", f"unknown resource {end!r}")
            edges.setdefault((self.index[d.source], self.index[d.target]), d.kind)

        out_calls = np.zeros(n, dtype=np.int64)
        members: dict[int, list[int]] = {}
        for (s, t), kind in edges.items():
            if kind is DependencyKind.CALLS:
                out_calls[s] += 1
            else:
                members.setdefault(s, []).append(t)

        src_l, tgt_l, w_l, we_l = [], [], [], []
        for (s, t), kind in edges.items():
            if kind is DependencyKind.MEMBER:
                w = 1.0 / len(members[s])
                w_err = w  # a group's errors are the mean of its members'
            else:
                fanout = resources[s].attrs.get("fanout", {})
                t_id = self.ids[t]
                if isinstance(fanout, dict) and t_id in fanout:
                    w = _number(fanout[t_id], f"resources[{s}].attrs.fanout.{t_id}")
                    w_err = min(w, 1.0) * ERROR_PASS_THROUGH
                elif self.kinds[s] in BALANCER_KINDS:
                    w = 1.0 / float(out_calls[s])
                    w_err = w
                else:
                    w, w_err = 1.0, ERROR_PASS_THROUGH
            src_l.append(s)
            tgt_l.append(t)
            w_l.append(w)
            we_l.append(w_err)

        src = np.array(src_l, dtype=np.int64)
        tgt = np.array(tgt_l, dtype=np.int64)
        self.level = _levels(n, src, tgt, self.ids)
        self.depth = int(self.level.max()) + 1 if n else 0
        order = np.argsort(self.level[src], kind="stable")
        src, tgt = src[order], tgt[order]
        w_arr, we_arr = np.array(w_l)[order], np.array(we_l)[order]
        self.edge_src, self.edge_tgt = src, tgt
        bounds = np.searchsorted(self.level[src], np.arange(self.depth + 1))
        self.levels: list[LevelEdges] = [
            LevelEdges(src[a:b], tgt[a:b], w_arr[a:b], we_arr[a:b])
            for a, b in itertools.pairwise(bounds.tolist())
            if b > a
        ]

        groups = sorted(members)
        self.groups: IntArray = np.array(groups, dtype=np.int64)
        self.member_group: IntArray = np.array(
            [g for g in groups for _ in members[g]], dtype=np.int64
        )
        self.member_node: IntArray = np.array(
            [m for g in groups for m in members[g]], dtype=np.int64
        )
        self.group_size: FloatArray = np.array([len(members[g]) for g in groups], dtype=np.float64)

    def forward(self, r: FloatArray, fwd: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Requests per second at every node and on every edge, given the external ones."""
        r = r.copy()
        flows = []
        for le in self.levels:
            f = r[le.src] * fwd[le.src] * le.w
            r += np.bincount(le.tgt, f, minlength=self.n)
            flows.append(f)
        return r, np.concatenate(flows) if flows else np.zeros(0)

    def backward(
        self, lat: FloatArray, log_ok: FloatArray, fwd: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Latency and log-success of every node including what its callees add."""
        lat, log_ok = lat.copy(), log_ok.copy()
        for le in reversed(self.levels):
            share = fwd[le.src]
            lat += np.bincount(le.src, share * le.w * lat[le.tgt], minlength=self.n)
            log_ok += np.bincount(le.src, share * le.w_err * log_ok[le.tgt], minlength=self.n)
        return lat, log_ok

    def edge_sum(self, per_edge: FloatArray) -> FloatArray:
        """Sum a value of every edge onto its source."""
        return np.bincount(self.edge_src, per_edge, minlength=self.n).astype(np.float64, copy=False)

    def aggregate_groups(
        self, values: FloatArray, mean_cols: list[int], sum_cols: list[int]
    ) -> None:
        """Overwrite group rows with the mean or sum of their members' rows, in place."""
        if not len(self.groups):
            return
        slot = np.searchsorted(self.groups, self.member_group)
        for col, is_mean in [(c, True) for c in mean_cols] + [(c, False) for c in sum_cols]:
            total = np.bincount(slot, values[self.member_node, col], minlength=len(self.groups))
            values[self.groups, col] = total / self.group_size if is_mean else total


def _levels(n: int, src: IntArray, tgt: IntArray, ids: tuple[str, ...]) -> IntArray:
    """Longest-path depth of every node; refuses cycles (load would circle forever)."""
    indeg = np.bincount(tgt, minlength=n)
    out: list[list[int]] = [[] for _ in range(n)]
    for s, t in zip(src.tolist(), tgt.tolist(), strict=True):
        out[s].append(t)
    level = np.zeros(n, dtype=np.int64)
    frontier = [i for i in range(n) if indeg[i] == 0]
    done = 0
    while frontier:
        nxt = []
        for s in frontier:
            done += 1
            for t in out[s]:
                level[t] = max(level[t], level[s] + 1)
                indeg[t] -= 1
                if indeg[t] == 0:
                    nxt.append(t)
        frontier = nxt
    if done != n:
        stuck = next(ids[i] for i in range(n) if indeg[i] > 0)
        raise InvalidInputError(
            "dependencies", f"the dependency graph has a cycle through {stuck!r}"
        )
    return level


def _number(value: Any, field: str, *, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(field, "must be a finite number")
    if value < low:
        raise InvalidInputError(field, f"must be at least {low}")
    return float(value)


@dataclass(frozen=True, slots=True)
class NodeParams:
    """Static per-node parameters as arrays, read from Resource.attrs with per-kind defaults."""

    service_ms: FloatArray
    base_error: FloatArray
    base_memory: FloatArray
    base_disk: FloatArray
    idle_cpu: FloatArray
    req_bytes: FloatArray
    resp_bytes: FloatArray
    capacity_rps: FloatArray
    base_rps: FloatArray
    seasonality: FloatArray
    calendar_sensitivity: FloatArray

    @classmethod
    def from_resources(cls, resources: Sequence[Resource], flow: FlowGraph) -> NodeParams:
        has_callers = np.zeros(flow.n, dtype=bool)
        has_callers[flow.edge_tgt] = True
        cols: dict[str, list[float]] = {name: [] for name in cls.__slots__}
        explicit_cap: list[bool] = []
        for i, r in enumerate(resources):
            d = KIND_DEFAULTS[r.kind]
            entry_default = d.base_rps if not has_callers[i] else 0.0
            defaults = {
                "service_ms": d.service_ms,
                "base_error": d.base_error,
                "base_memory": d.base_memory,
                "base_disk": d.base_disk,
                "idle_cpu": d.idle_cpu,
                "req_bytes": d.req_bytes,
                "resp_bytes": d.resp_bytes,
                "capacity_rps": 1.0,
                "base_rps": entry_default,
                "seasonality": 1.0 if r.kind is not _K.GENERIC else 0.2,
                "calendar_sensitivity": 1.0 if r.kind is not _K.GENERIC else 0.0,
            }
            for name, default in defaults.items():
                raw = r.attrs.get(name, default)
                cols[name].append(_number(raw, f"resources[{i}].attrs.{name}"))
            explicit_cap.append("capacity_rps" in r.attrs)
            if cols["capacity_rps"][-1] <= 0:
                raise InvalidInputError(f"resources[{i}].attrs.capacity_rps", "must be positive")
            if cols["base_error"][-1] >= 1:
                raise InvalidInputError(f"resources[{i}].attrs.base_error", "must be below 1")

        arrays = {name: np.array(v, dtype=np.float64) for name, v in cols.items()}
        # size missing capacities so the daily peak lands at the kind's target utilisation
        load, _ = flow.forward(arrays["base_rps"] * PEAK_FACTOR, np.ones(flow.n))
        target = np.array([KIND_DEFAULTS[k].target_util for k in flow.kinds])
        planned = np.maximum(load / target, 1.0)
        arrays["capacity_rps"] = np.where(explicit_cap, arrays["capacity_rps"], planned)
        return cls(**arrays)
