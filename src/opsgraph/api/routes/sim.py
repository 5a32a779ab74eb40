"""Controls of the simulated cloud: inject a fault by hand, apply an action, list faults.

Each call is recorded as an event and an audit event.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from opsgraph.api.deps import RuntimeDep
from opsgraph.sim import ActionKind, ActionOutcome, FaultKind, FaultRecord

router = APIRouter(prefix="/sim", tags=["simulator"])


class FaultRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: FaultKind
    node: str = Field(min_length=1, max_length=200)
    duration_s: float | None = Field(default=None, gt=0, le=7 * 86400, allow_inf_nan=False)
    reason: str = Field(default="", max_length=500)


class ActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: ActionKind
    node: str = Field(min_length=1, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field(default="", max_length=500)


@router.get("/faults", summary="Every fault injected so far, with ground truth")
def list_faults(runtime: RuntimeDep) -> list[FaultRecord]:
    sim = runtime.simulation.require()
    return list(reversed(sim.faults))


@router.post("/faults", status_code=status.HTTP_201_CREATED, summary="Inject a fault")
def inject(request: FaultRequest, runtime: RuntimeDep) -> FaultRecord:
    return runtime.simulation.inject_fault(
        request.kind, request.node, duration_s=request.duration_s, reason=request.reason
    )


@router.post("/actions", summary="Apply an action to the simulated cloud")
def act(request: ActionRequest, runtime: RuntimeDep) -> ActionOutcome:
    return runtime.simulation.apply_action(
        request.action, request.node, request.params, reason=request.reason
    )
