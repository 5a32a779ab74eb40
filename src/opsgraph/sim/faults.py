"""Faults the simulated cloud can suffer, the actions that cure them, and their ground truth.

Also turns the faults active at a timestamp into per-node effect arrays the engine applies at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from opsgraph.core.models import ResourceKind

FloatArray = npt.NDArray[np.float64]


class FaultKind(StrEnum):
    CPU_HOG = "cpu_hog"
    MEMORY_LEAK = "memory_leak"
    LATENCY_INJECTION = "latency_injection"
    ERROR_BURST = "error_burst"
    TRAFFIC_SPIKE = "traffic_spike"
    DEPENDENCY_OUTAGE = "dependency_outage"
    DISK_FULL = "disk_full"
    MISCONFIGURATION = "misconfiguration"
    #: An expired TLS certificate: requests fail fast, as after a bad configuration, but
    #: nothing changed on the node and no action of the catalogue cures it (someone renews
    #: the certificate). Its symptoms are a misconfiguration's; its cure is not a rollback.
    CERTIFICATE_EXPIRY = "certificate_expiry"


#: The eight kinds the detection and root-cause benchmarks cycle (their figures are of these);
#: the remediation benchmark cycles every kind, the ambiguous ones included.
CORE_FAULT_KINDS: tuple[FaultKind, ...] = tuple(
    k for k in FaultKind if k is not FaultKind.CERTIFICATE_EXPIRY
)


class ActionKind(StrEnum):
    SCALE_OUT = "scale_out"
    SCALE_IN = "scale_in"
    RESTART = "restart"
    FAILOVER = "failover"
    ROLLBACK = "rollback"


_K = ResourceKind
#: Kinds that run code a restart or rollback can act on.
_COMPUTE = frozenset({_K.EC2, _K.LAMBDA, _K.K8S_POD, _K.GENERIC})
#: Kinds that serve requests themselves (groups only aggregate their members).
_SERVING = frozenset(set(_K) - {_K.ASG, _K.K8S_SERVICE})

#: Which resource kinds each fault can hit. A traffic spike additionally needs an entry point.
FAULT_TARGETS: dict[FaultKind, frozenset[ResourceKind]] = {
    FaultKind.CPU_HOG: _COMPUTE,
    FaultKind.MEMORY_LEAK: _COMPUTE,
    FaultKind.LATENCY_INJECTION: _SERVING,
    FaultKind.ERROR_BURST: _SERVING,
    FaultKind.TRAFFIC_SPIKE: _SERVING,
    FaultKind.DEPENDENCY_OUTAGE: frozenset({_K.RDS, _K.CACHE, _K.S3}),
    FaultKind.DISK_FULL: frozenset({_K.EC2, _K.RDS, _K.K8S_POD, _K.GENERIC}),
    FaultKind.MISCONFIGURATION: _COMPUTE | {_K.ELB},
    FaultKind.CERTIFICATE_EXPIRY: _COMPUTE | {_K.ELB},
}

#: Planned durations when the caller gives none: a few to fifteen one-minute steps.
DEFAULT_DURATION_S: dict[FaultKind, float] = {
    FaultKind.CPU_HOG: 600.0,
    FaultKind.MEMORY_LEAK: 900.0,
    FaultKind.LATENCY_INJECTION: 480.0,
    FaultKind.ERROR_BURST: 300.0,
    FaultKind.TRAFFIC_SPIKE: 600.0,
    FaultKind.DEPENDENCY_OUTAGE: 480.0,
    FaultKind.DISK_FULL: 720.0,
    FaultKind.MISCONFIGURATION: 600.0,
    FaultKind.CERTIFICATE_EXPIRY: 900.0,
}

#: Which resource kinds each action applies to.
ACTION_TARGETS: dict[ActionKind, frozenset[ResourceKind]] = {
    ActionKind.SCALE_OUT: frozenset({_K.ASG, _K.K8S_SERVICE}),
    ActionKind.SCALE_IN: frozenset({_K.ASG, _K.K8S_SERVICE}),
    ActionKind.RESTART: _COMPUTE,
    ActionKind.FAILOVER: frozenset({_K.RDS, _K.CACHE}),
    ActionKind.ROLLBACK: _COMPUTE | {_K.ELB},
}

#: The faults on the acted-on node that each action ends.
ACTION_CLEARS: dict[ActionKind, frozenset[FaultKind]] = {
    ActionKind.SCALE_OUT: frozenset(),
    ActionKind.SCALE_IN: frozenset(),
    ActionKind.RESTART: frozenset({FaultKind.MEMORY_LEAK, FaultKind.CPU_HOG}),
    ActionKind.FAILOVER: frozenset({FaultKind.DEPENDENCY_OUTAGE, FaultKind.LATENCY_INJECTION}),
    ActionKind.ROLLBACK: frozenset({FaultKind.MISCONFIGURATION, FaultKind.ERROR_BURST}),
}

#: Faults that a change of the node brings (a deploy or a configuration push, recorded as a
#: `change.deploy` event when the simulator injects them): what a rollback can undo.
CHANGE_FAULTS = frozenset({FaultKind.MISCONFIGURATION, FaultKind.ERROR_BURST})

#: Faults whose effect travels with the load to callees; every other one travels to callers.
DOWNSTREAM_FAULTS = frozenset({FaultKind.TRAFFIC_SPIKE})

MAX_INTENSITY = 5.0


class FaultRecord(BaseModel):
    """One injected fault and its ground truth: where it started and which nodes it reached."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: FaultKind
    root: str
    start_ts: float
    #: Planned end; the fault stops earlier when an action clears it.
    end_ts: float
    cleared_ts: float | None = None
    #: "expired" or "action:<kind>".
    cleared_by: str | None = None
    #: The root first, then every node whose metrics the fault moves.
    affected: list[str] = Field(default_factory=list)
    params: dict[str, Any] = Field(default_factory=dict)

    def active_at(self, ts: float) -> bool:
        """Whether the fault shapes the metrics of the frame at `ts`."""
        if ts < self.start_ts or ts >= self.end_ts:
            return False
        return self.cleared_ts is None or ts < self.cleared_ts


class ActionOutcome(BaseModel):
    """What an action did: ok is False when it was refused (e.g. scaling past the bounds)."""

    model_config = ConfigDict(extra="forbid")

    action: ActionKind
    node: str
    ok: bool
    message: str
    cleared_faults: list[str] = Field(default_factory=list)
    ts: float
    details: dict[str, Any] = Field(default_factory=dict)


def fault_params(kind: FaultKind, intensity: float) -> dict[str, Any]:
    """The magnitudes a fault of this intensity applies, recorded with it for explanations."""
    a = intensity
    params: dict[str, Any] = {"intensity": a}
    if kind is FaultKind.CPU_HOG:
        params["cpu_points"] = min(95.0, max(5.0, 60.0 * a))
    elif kind is FaultKind.MEMORY_LEAK:
        # time constant of the ramp toward a full heap
        params["tau_s"] = 240.0 / a
    elif kind is FaultKind.LATENCY_INJECTION:
        params["added_ms"] = 300.0 * a
    elif kind is FaultKind.ERROR_BURST:
        params["error_rate"] = min(0.95, 0.35 * a)
    elif kind is FaultKind.TRAFFIC_SPIKE:
        params["traffic_multiplier"] = 1.0 + 2.0 * a
    elif kind is FaultKind.DEPENDENCY_OUTAGE:
        params["down_fraction"] = min(1.0, a)
        params["timeout_ms"] = 2000.0 * min(1.0, a)
    elif kind is FaultKind.DISK_FULL:
        params["error_rate"] = min(0.9, 0.3 * a)
    elif kind in (FaultKind.MISCONFIGURATION, FaultKind.CERTIFICATE_EXPIRY):
        params["error_rate"] = min(0.9, 0.4 * a)
    return params


@dataclass(slots=True)
class Effects:
    """Per-node modifiers of one step; neutral values mean no fault."""

    ext_mult: FloatArray  # multiplies external traffic
    cpu_add: FloatArray  # CPU points burnt outside the workload
    leak_frac: FloatArray  # share of free memory eaten by a leak
    disk_frac: FloatArray  # share of free disk filled
    lat_add: FloatArray  # ms added to the node's own latency
    lat_mult: FloatArray  # multiplies the node's own latency
    err_add: FloatArray  # error rate added to the node's own errors
    outage: FloatArray  # 1 when the node is down
    fwd: FloatArray  # share of requests passed on to callees

    @classmethod
    def neutral(cls, n: int) -> Effects:
        zeros, ones = np.zeros(n), np.ones(n)
        return cls(
            ext_mult=ones.copy(),
            cpu_add=zeros.copy(),
            leak_frac=zeros.copy(),
            disk_frac=zeros.copy(),
            lat_add=zeros.copy(),
            lat_mult=ones.copy(),
            err_add=zeros.copy(),
            outage=zeros.copy(),
            fwd=ones,
        )


def compute_effects(
    faults: list[FaultRecord], index: dict[str, int], ts: float, n: int, step_s: float
) -> Effects:
    """Effect arrays of the faults active at `ts`; loops over faults, never over nodes."""
    fx = Effects.neutral(n)
    for f in faults:
        i = index[f.root]
        p = f.params
        elapsed = ts - f.start_ts
        k = f.kind
        if k is FaultKind.CPU_HOG:
            fx.cpu_add[i] += p["cpu_points"]
        elif k is FaultKind.MEMORY_LEAK:
            # counted from the end of the step so the first frame already shows some growth
            frac = 1.0 - math.exp(-(elapsed + step_s) / p["tau_s"])
            fx.leak_frac[i] = max(fx.leak_frac[i], frac)
        elif k is FaultKind.LATENCY_INJECTION:
            fx.lat_add[i] += p["added_ms"]
        elif k is FaultKind.ERROR_BURST:
            fx.err_add[i] += p["error_rate"]
        elif k is FaultKind.TRAFFIC_SPIKE:
            fx.ext_mult[i] *= p["traffic_multiplier"]
        elif k is FaultKind.DEPENDENCY_OUTAGE:
            fx.outage[i] = max(fx.outage[i], p["down_fraction"])
            fx.lat_add[i] += p["timeout_ms"]
        elif k is FaultKind.DISK_FULL:
            # a runaway writer fills the disk within two steps; writes fail once it is full
            frac = min(1.0, (elapsed + step_s) / (2.0 * step_s))
            fx.disk_frac[i] = max(fx.disk_frac[i], frac)
            fx.err_add[i] += p["error_rate"] * frac
            fx.lat_mult[i] *= 1.0 + 0.5 * frac
        elif k in (FaultKind.MISCONFIGURATION, FaultKind.CERTIFICATE_EXPIRY):
            # requests fail fast before reaching dependencies: errors up, latency and fan-out down
            fx.err_add[i] += p["error_rate"]
            fx.fwd[i] *= 1.0 - p["error_rate"]
            fx.lat_mult[i] *= 0.5
    return fx
