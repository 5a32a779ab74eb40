"""The remediation half of `Store`: actions by idempotency key, their status and attempts.

`claim_action` inserts the key before anything runs; a second claim of the same key returns
None, so a retry, a second replica or a restart never executes an action twice.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, func, select

from opsgraph.core.errors import InvalidInputError, NotFoundError
from opsgraph.core.models import AuditEvent
from opsgraph.store import _convert as cv
from opsgraph.store._base import StoreBase
from opsgraph.store.tables import AuditEventRow, AutomationActionRow


class ActionStatus(StrEnum):
    DRY_RUN = "dry_run"  # recorded what would happen, nothing executed
    REFUSED = "refused"  # a guardrail said no (the reason says which)
    PENDING = "pending"  # waits for an operator's approval
    REJECTED = "rejected"
    EXPIRED = "expired"  # nobody approved it in time
    CANCELLED = "cancelled"  # approved after what it was for was gone (the reason says why)
    RUNNING = "running"  # claimed for execution (by a policy in auto mode, or approved)
    VERIFYING = "verifying"  # executed; watching whether the anomaly clears
    SUCCEEDED = "succeeded"  # executed and (where watched) the anomaly cleared
    FAILED = "failed"  # executed, verification failed, rolled back where reversible
    ESCALATED = "escalated"  # failed after every attempt, or unknown after a restart


#: Statuses counted by rate limits, cooldowns and blast radius: actions that ran or may run.
ACTED = (
    ActionStatus.RUNNING,
    ActionStatus.VERIFYING,
    ActionStatus.SUCCEEDED,
    ActionStatus.FAILED,
    ActionStatus.ESCALATED,
)


class AutomationAction(BaseModel):
    """One remediation action of a policy or an operator, through its whole life."""

    model_config = ConfigDict(extra="forbid")

    id: int | None = None
    key: str = Field(min_length=1, max_length=300)
    ts: float  # data time of the decision (the pipeline's clock)
    created_ts: float = 0.0  # wall time
    updated_ts: float = 0.0
    policy: str = ""
    action: str
    target: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    executor: str
    mode: str
    status: ActionStatus
    incident_id: int | None = None
    reason: str = ""
    actor: str = "opsgraph"
    expires_ts: float | None = None  # wall time a pending action expires
    verify_until: float | None = None  # data time verification gives up
    attempts: int = 0
    result: dict[str, Any] = Field(default_factory=dict)


_FIELDS = tuple(AutomationAction.model_fields)


def _from_row(row: AutomationActionRow) -> AutomationAction:
    return AutomationAction.model_validate({f: getattr(row, f) for f in _FIELDS})


class AutomationStore(StoreBase):
    """Remediation actions."""

    def claim_action(self, action: AutomationAction) -> AutomationAction | None:
        """Insert a new action under its key; None when the key is already taken."""
        if action.id is not None:
            raise InvalidInputError("action.id", "must be empty for a new action")
        now = time.time()
        values = action.model_dump(exclude={"id"}) | {"created_ts": now, "updated_ts": now}
        values["status"] = action.status.value
        # ON CONFLICT DO NOTHING: a taken key inserts nothing and returns no id.
        stmt = self._upsert(AutomationActionRow, ["key"], []).returning(AutomationActionRow.id)
        with self._tx(write=True) as s:
            new_id = s.execute(stmt, values).scalar()
            if new_id is None:
                return None
            row = s.get(AutomationActionRow, new_id)
            assert row is not None
            return _from_row(row)

    def get_action(self, action_id: int) -> AutomationAction:
        with self._tx() as s:
            row = s.get(AutomationActionRow, action_id)
            if row is None:
                raise NotFoundError("automation action", action_id)
            return _from_row(row)

    def find_action(self, key: str) -> AutomationAction | None:
        with self._tx() as s:
            row = s.scalars(
                select(AutomationActionRow).where(AutomationActionRow.key == key)
            ).first()
            return None if row is None else _from_row(row)

    def update_action(
        self, action_id: int, *, expect: Sequence[ActionStatus] | None = None, **fields: Any
    ) -> AutomationAction | None:
        """Change fields of an action; with `expect`, only while its status is one of those
        (None otherwise), so two approvers or a tick and an approver cannot both win."""
        bad = set(fields) - set(_FIELDS) - {"status"}
        if bad or "id" in fields or "key" in fields:
            raise InvalidInputError(
                "fields", f"cannot set {sorted(bad | ({'id', 'key'} & set(fields)))}"
            )
        with self._tx(write=True) as s:
            row = s.get(AutomationActionRow, action_id, with_for_update=True)
            if row is None:
                raise NotFoundError("automation action", action_id)
            if expect is not None and row.status not in {ActionStatus(x).value for x in expect}:
                return None
            for name, value in fields.items():
                setattr(row, name, value.value if isinstance(value, ActionStatus) else value)
            row.updated_ts = time.time()
            s.flush()
            return _from_row(row)

    def list_actions(
        self,
        *,
        statuses: Sequence[ActionStatus] | None = None,
        target: str | None = None,
        policy: str | None = None,
        since: float | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[AutomationAction], int]:
        """A page of actions, newest first, and the total that match (`since`: data time)."""
        conds: list[ColumnElement[bool]] = []
        if statuses is not None:
            conds.append(AutomationActionRow.status.in_([ActionStatus(x).value for x in statuses]))
        if target is not None:
            conds.append(AutomationActionRow.target == target)
        if policy is not None:
            conds.append(AutomationActionRow.policy == policy)
        if since is not None:
            conds.append(AutomationActionRow.ts >= since)
        order = (AutomationActionRow.ts.desc(), AutomationActionRow.id.desc())
        with self._tx() as s:
            rows, total = self._page(s, AutomationActionRow, conds, order, limit, offset)
            return [_from_row(r) for r in rows], total

    def count_actions(
        self,
        *,
        since: float,
        statuses: Sequence[ActionStatus] = ACTED,
        target: str | None = None,
        policy: str | None = None,
        distinct_targets: bool = False,
        targets: Sequence[str] | None = None,
    ) -> int:
        """Actions (or distinct targets) with ts >= since, for rate limits and blast radius."""
        conds: list[ColumnElement[bool]] = [
            AutomationActionRow.ts >= since,
            AutomationActionRow.status.in_([ActionStatus(x).value for x in statuses]),
        ]
        if target is not None:
            conds.append(AutomationActionRow.target == target)
        if policy is not None:
            conds.append(AutomationActionRow.policy == policy)
        if targets is not None:
            conds.append(AutomationActionRow.target.in_(list(targets)))
        what = (
            func.count(func.distinct(AutomationActionRow.target))
            if distinct_targets
            else func.count()
        )
        with self._tx() as s:
            return int(s.scalar(select(what).select_from(AutomationActionRow).where(*conds)) or 0)

    def list_automation_audit(
        self, *, target: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[AuditEvent], int]:
        """A page of the audit events of automation (action `automation.*`), newest first."""
        conds: list[ColumnElement[bool]] = [AuditEventRow.action.startswith("automation.")]
        if target is not None:
            conds.append(AuditEventRow.target == target)
        order = (AuditEventRow.ts.desc(), AuditEventRow.id.desc())
        with self._tx() as s:
            rows, total = self._page(s, AuditEventRow, conds, order, limit, offset)
            return [cv.audit_from_row(r) for r in rows], total
