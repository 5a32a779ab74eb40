"""Automated remediation over HTTP: pending actions to approve or reject (operators and admins
only), a manual trigger, the audit log of automation, the policies and the actions catalog.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from opsgraph.act.actions import CATALOG
from opsgraph.act.service import Automation
from opsgraph.api.deps import RuntimeDep
from opsgraph.api.routes.common import Limit, Offset, Page, RowId
from opsgraph.api.security import require
from opsgraph.auth import Principal
from opsgraph.core.auth import Role
from opsgraph.core.models import AuditEvent
from opsgraph.runtime.root import Runtime
from opsgraph.store._automation import ActionStatus, AutomationAction

router = APIRouter(prefix="/automation", tags=["automation"])

OperatorDep = Annotated[Principal, require(Role.OPERATOR)]


def _automation(runtime: Runtime) -> Automation:
    return runtime.automation


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=2000)


class TriggerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: str = Field(min_length=1, max_length=64)
    target: str | None = Field(default=None, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)
    dry_run: bool = False
    executor: str | None = Field(default=None, max_length=64)
    incident_id: RowId | None = None
    reason: str = Field(default="", max_length=2000)
    key: str | None = Field(
        default=None, min_length=1, max_length=200, description="Idempotency key."
    )


@router.get("/pending", summary="Actions waiting for approval")
def pending(runtime: RuntimeDep, limit: Limit = 50, offset: Offset = 0) -> Page[AutomationAction]:
    _automation(runtime).expire_pending()  # expired ones leave the list now, not at a tick
    items, total = runtime.store.list_actions(
        statuses=[ActionStatus.PENDING], limit=limit, offset=offset
    )
    return Page[AutomationAction](items=items, total=total, limit=limit, offset=offset)


@router.get("/actions/{action_id}", summary="One automation action")
def get_action(action_id: RowId, runtime: RuntimeDep) -> AutomationAction:
    return runtime.store.get_action(action_id)


@router.get("/history", summary="Automation actions, newest first")
def history(
    runtime: RuntimeDep,
    status_: Annotated[list[ActionStatus] | None, Query(alias="status")] = None,
    target: str | None = None,
    policy: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AutomationAction]:
    items, total = runtime.store.list_actions(
        statuses=status_, target=target, policy=policy, limit=limit, offset=offset
    )
    return Page[AutomationAction](items=items, total=total, limit=limit, offset=offset)


@router.post("/{action_id}/approve", summary="Approve a pending action (it executes now)")
def approve(
    action_id: RowId, who: OperatorDep, runtime: RuntimeDep, body: Decision | None = None
) -> AutomationAction:
    note = body.note if body else ""
    return _automation(runtime).approve(action_id, actor=who.name, note=note)


@router.post("/{action_id}/reject", summary="Reject a pending action")
def reject(
    action_id: RowId, who: OperatorDep, runtime: RuntimeDep, body: Decision | None = None
) -> AutomationAction:
    note = body.note if body else ""
    return _automation(runtime).reject(action_id, actor=who.name, note=note)


@router.post(
    "/trigger", status_code=status.HTTP_202_ACCEPTED, summary="Run (or dry-run) an action by hand"
)
def trigger(body: TriggerRequest, who: OperatorDep, runtime: RuntimeDep) -> AutomationAction:
    """Executes off the request thread: poll /automation/actions/{id} for the outcome."""
    return _automation(runtime).trigger(
        body.action,
        body.target,
        body.params,
        actor=who.name,
        reason=body.reason,
        dry_run=body.dry_run,
        executor=body.executor,
        incident_id=body.incident_id,
        key=body.key,
    )


@router.get("/logs", summary="The audit trail of automation, newest first")
def logs(
    runtime: RuntimeDep, target: str | None = None, limit: Limit = 50, offset: Offset = 0
) -> Page[AuditEvent]:
    items, total = runtime.store.list_automation_audit(target=target, limit=limit, offset=offset)
    return Page[AuditEvent](items=items, total=total, limit=limit, offset=offset)


@router.get("/policies", summary="The loaded remediation policies")
def policies(runtime: RuntimeDep) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json") for p in _automation(runtime).policies]


@router.post("/policies/reload", summary="Read the policy folder again (admin)")
def reload_policies(
    who: Annotated[Principal, require(Role.ADMIN)], runtime: RuntimeDep
) -> list[dict[str, Any]]:
    """A policy file with an error is refused (422 naming file and field); the policies in
    force stay as they were."""
    fresh = _automation(runtime).reload_policies(actor=who.name)
    return [p.model_dump(mode="json") for p in fresh]


@router.get("/actions", summary="The actions catalog: schemas, permissions, reversal")
def actions() -> list[dict[str, Any]]:
    return [spec.describe() for spec in CATALOG.values()]
