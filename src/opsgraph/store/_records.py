"""The record-keeping half of `Store`: anomalies, events, incidents and the audit trail.

Lists are newest first with a total count, so the API can page through them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from opsgraph.core.errors import InvalidInputError, NotFoundError
from opsgraph.core.models import (
    Anomaly,
    AnomalyStatus,
    AuditEvent,
    Event,
    Incident,
    IncidentStatus,
    Severity,
)
from opsgraph.store import _convert as cv
from opsgraph.store._base import StoreBase, check_range, chunks
from opsgraph.store.tables import AnomalyRow, AuditEventRow, EventRow, IncidentRow

#: The notifier's audit entries (opsgraph.notify.dispatch: its ACTOR and actions).
NOTIFY_ACTOR = "notify"
NOTIFY_ACTIONS = ("notify.send", "notify.suppressed")

MAX_QUERY = 200
"""Longest substring `list_anomalies(q=...)` accepts: bounds the work of each LIKE."""


def _contains(q: str) -> ColumnElement[bool]:
    """resource_id or metric contains `q`, case-insensitive; % and _ in `q` match themselves."""
    text = q.strip()
    if not text:
        raise InvalidInputError("q", "must not be blank")
    if len(text) > MAX_QUERY:
        raise InvalidInputError("q", f"must be at most {MAX_QUERY} characters")
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    # The other filters and the start_ts order (indexed) bound the scan; LIKE only refines it.
    return or_(
        AnomalyRow.resource_id.ilike(pattern, escape="\\"),
        AnomalyRow.metric.ilike(pattern, escape="\\"),
    )


class AnomalyKey(NamedTuple):
    """Where an anomaly stands in the newest-first order: its episode's start, then its id."""

    start_ts: float
    id: int


@dataclass(frozen=True)
class AnomalyPage:
    """A page of `page_anomalies`: its items (and their keys), the total that match, how many
    matching rows are newer than the page, and whether rows lie beyond it either way."""

    items: list[Anomaly]
    keys: list[AnomalyKey]
    total: int
    position: int
    has_older: bool
    has_newer: bool


_NEWEST = (AnomalyRow.start_ts.desc(), AnomalyRow.id.desc())
_OLDEST = (AnomalyRow.start_ts.asc(), AnomalyRow.id.asc())


def _older_than(key: AnomalyKey) -> ColumnElement[bool]:
    # start_ts <= s first: a range the (start_ts, id) index answers; the OR only refines it.
    return and_(
        AnomalyRow.start_ts <= key.start_ts,
        or_(AnomalyRow.start_ts < key.start_ts, AnomalyRow.id < key.id),
    )


def _newer_than(key: AnomalyKey) -> ColumnElement[bool]:
    return and_(
        AnomalyRow.start_ts >= key.start_ts,
        or_(AnomalyRow.start_ts > key.start_ts, AnomalyRow.id > key.id),
    )


def _exists(
    session: Session, conds: Sequence[ColumnElement[bool]], where: ColumnElement[bool]
) -> bool:
    return session.scalar(select(AnomalyRow.id).where(*conds, where).limit(1)) is not None


class RecordsStore(StoreBase):
    """Anomalies, events, incidents, audit events."""

    # -- helpers of write_batch ----------------------------------------------------------------

    @staticmethod
    def _anomaly_links(session: Session, ids: Sequence[int]) -> dict[int, int | None]:
        """id -> incident_id of existing anomalies; NotFoundError names the first missing id."""
        links: dict[int, int | None] = {}
        for chunk in chunks(sorted(set(ids))):
            query = select(AnomalyRow.id, AnomalyRow.incident_id).where(AnomalyRow.id.in_(chunk))
            links.update((aid, iid) for aid, iid in session.execute(query))
        for aid in ids:
            if aid not in links:
                raise NotFoundError("anomaly", aid)
        return links

    @staticmethod
    def _insert_anomalies(session: Session, anomalies: Sequence[Anomaly]) -> list[Anomaly]:
        if not anomalies:
            return []
        stmt = insert(AnomalyRow).returning(AnomalyRow.id, sort_by_parameter_order=True)
        ids = session.scalars(stmt, [cv.anomaly_values(a) for a in anomalies]).all()
        return [a.model_copy(update={"id": aid}) for a, aid in zip(anomalies, ids, strict=True)]

    @staticmethod
    def _update_anomalies(
        session: Session, anomalies: Sequence[Anomaly], links: dict[int, int | None]
    ) -> None:
        if not anomalies:
            return
        rows = []
        for a in anomalies:
            assert a.id is not None
            values = cv.anomaly_values(a)
            row = {"id": a.id, **{f: values[f] for f in cv.ANOMALY_UPDATE_FIELDS}}
            # An update never unlinks: a stale copy without incident_id keeps the stored link.
            row["incident_id"] = a.incident_id if a.incident_id is not None else links[a.id]
            rows.append(row)
        session.execute(update(AnomalyRow), rows)

    @staticmethod
    def _insert_events(session: Session, events: Sequence[Event]) -> list[Event]:
        if not events:
            return []
        stmt = insert(EventRow).returning(EventRow.id, sort_by_parameter_order=True)
        rows = [cv.event_values(e, f"events[{i}]") for i, e in enumerate(events)]
        ids = session.scalars(stmt, rows).all()
        return [e.model_copy(update={"id": eid}) for e, eid in zip(events, ids, strict=True)]

    # -- anomalies -----------------------------------------------------------------------------

    @staticmethod
    def _anomaly_conds(
        *,
        severities: Sequence[Severity] | None,
        resource_id: str | None,
        status: AnomalyStatus | None,
        start: float | None,
        end: float | None,
        q: str | None,
        incident_id: int | None,
    ) -> list[ColumnElement[bool]]:
        check_range(start, end)
        conds: list[ColumnElement[bool]] = []
        if q is not None:
            conds.append(_contains(q))
        if severities is not None:
            conds.append(AnomalyRow.severity.in_([Severity(x).value for x in severities]))
        if resource_id is not None:
            conds.append(AnomalyRow.resource_id == resource_id)
        if status is not None:
            conds.append(AnomalyRow.status == AnomalyStatus(status).value)
        if incident_id is not None:
            conds.append(AnomalyRow.incident_id == incident_id)
        if start is not None:
            conds.append(func.coalesce(AnomalyRow.end_ts, AnomalyRow.last_ts) >= start)
        if end is not None:
            conds.append(AnomalyRow.start_ts <= end)
        return conds

    def list_anomalies(
        self,
        *,
        severities: Sequence[Severity] | None = None,
        resource_id: str | None = None,
        status: AnomalyStatus | None = None,
        start: float | None = None,
        end: float | None = None,
        q: str | None = None,
        incident_id: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Anomaly], int]:
        """A page of anomalies, newest first (start_ts, then id), and the total that match.

        `start`/`end` keep the episodes overlapping [start, end]; an episode runs from start_ts
        to end_ts, or to last_ts while it has no end. `q` keeps those whose resource id or
        metric contains it, ignoring case (at most MAX_QUERY characters, wildcards literal).
        The order is on what never changes (an episode's start, its id): `page_anomalies`
        pages it by key, so rows arriving meanwhile neither repeat nor hide a row.
        """
        conds = self._anomaly_conds(
            severities=severities,
            resource_id=resource_id,
            status=status,
            start=start,
            end=end,
            q=q,
            incident_id=incident_id,
        )
        with self._tx() as s:
            rows, total = self._page(s, AnomalyRow, conds, _NEWEST, limit, offset)
            return [cv.anomaly_from_row(r) for r in rows], total

    def page_anomalies(
        self,
        *,
        severities: Sequence[Severity] | None = None,
        resource_id: str | None = None,
        status: AnomalyStatus | None = None,
        start: float | None = None,
        end: float | None = None,
        q: str | None = None,
        incident_id: int | None = None,
        limit: int = 50,
        key: AnomalyKey | None = None,
        newer: bool = False,
    ) -> AnomalyPage:
        """A page of anomalies by key, newest first: those just older than `key` (start_ts, id),
        or with `newer` those just newer; without a key, the newest. Also the total that match,
        how many matching rows are newer than the page (its position) and whether there are
        older and newer rows beyond it."""
        if limit < 0:
            raise InvalidInputError("limit", "must be 0 or more")
        conds = self._anomaly_conds(
            severities=severities,
            resource_id=resource_id,
            status=status,
            start=start,
            end=end,
            q=q,
            incident_id=incident_id,
        )
        with self._tx() as s:
            total = int(s.scalar(select(func.count()).select_from(AnomalyRow).where(*conds)) or 0)
            query = select(AnomalyRow).where(*conds)
            if key is not None:
                query = query.where(_newer_than(key) if newer else _older_than(key))
            order = _OLDEST if newer and key is not None else _NEWEST
            rows = list(s.scalars(query.order_by(*order).limit(limit + 1)))
            more = len(rows) > limit
            rows = rows[:limit]
            if newer and key is not None:
                rows.reverse()
            keys = [AnomalyKey(r.start_ts, r.id) for r in rows]
            # The page's edges; an empty page past either end stands at the key itself.
            first = keys[0] if keys else key
            last = keys[-1] if keys else key
            position = 0
            if first is not None:
                ahead = select(func.count()).select_from(AnomalyRow)
                position = int(s.scalar(ahead.where(*conds, _newer_than(first))) or 0)
            if newer and key is not None:
                has_newer = more
                has_older = last is not None and _exists(s, conds, _older_than(last))
            else:
                has_older = more
                has_newer = position > 0
            items = [cv.anomaly_from_row(r) for r in rows]
            return AnomalyPage(items, keys, total, position, has_older, has_newer)

    def get_anomaly(self, anomaly_id: int) -> Anomaly:
        with self._tx() as s:
            row = s.get(AnomalyRow, anomaly_id)
            if row is None:
                raise NotFoundError("anomaly", anomaly_id)
            return cv.anomaly_from_row(row)

    def open_anomalies(self) -> list[Anomaly]:
        """Every open anomaly, oldest id first (what a detector resumes after a restart)."""
        with self._tx() as s:
            query = (
                select(AnomalyRow)
                .where(AnomalyRow.status == AnomalyStatus.OPEN.value)
                .order_by(AnomalyRow.id)
            )
            return [cv.anomaly_from_row(r) for r in s.scalars(query)]

    # -- events --------------------------------------------------------------------------------

    def add_events(self, events: Sequence[Event]) -> list[Event]:
        """Store events; returns them with their ids."""
        for i, e in enumerate(events):
            if e.id is not None:
                raise InvalidInputError(f"events[{i}].id", "must be empty for a new event")
        with self._tx(write=True) as s:
            return self._insert_events(s, events)

    def list_events(
        self,
        *,
        kind: str | None = None,
        resource_id: str | None = None,
        start: float | None = None,
        end: float | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Event], int]:
        """A page of events with ts in [start, end], newest first, and the total that match."""
        check_range(start, end)
        conds: list[ColumnElement[bool]] = []
        if kind is not None:
            conds.append(EventRow.kind == kind)
        if resource_id is not None:
            conds.append(EventRow.resource_id == resource_id)
        if start is not None:
            conds.append(EventRow.ts >= start)
        if end is not None:
            conds.append(EventRow.ts <= end)
        order = (EventRow.ts.desc(), EventRow.id.desc())
        with self._tx() as s:
            rows, total = self._page(s, EventRow, conds, order, limit, offset)
            return [cv.event_from_row(r) for r in rows], total

    # -- incidents -----------------------------------------------------------------------------

    def add_incident(self, incident: Incident) -> Incident:
        """Store a new incident; returns it with its id."""
        if incident.id is not None:
            raise InvalidInputError("incident.id", "must be empty for a new incident")
        with self._tx(write=True) as s:
            row = IncidentRow(**cv.incident_values(incident))
            s.add(row)
            s.flush()
            return incident.model_copy(update={"id": row.id})

    def update_incident(self, incident: Incident, fields: Iterable[str] | None = None) -> Incident:
        """Write `fields` (every field when None) of the stored incident with the same id.

        A path that changes some fields names them: the detection loop and an operator both
        change an incident, each from its own copy, and writing every field would put back
        the other's older values (a member joining would undo an acknowledgement)."""
        if incident.id is None:
            raise InvalidInputError("incident.id", "is required for an update")
        values = cv.incident_values(incident)
        if fields is not None:
            names = list(fields)
            unknown = sorted(set(names) - values.keys())
            if unknown:
                raise InvalidInputError("fields", f"not incident fields: {', '.join(unknown)}")
            values = {name: values[name] for name in names}
        with self._tx(write=True) as s:
            row = s.get(IncidentRow, incident.id)
            if row is None:
                raise NotFoundError("incident", incident.id)
            for key, value in values.items():
                setattr(row, key, value)
        return incident

    def get_incident(self, incident_id: int) -> Incident:
        with self._tx() as s:
            row = s.get(IncidentRow, incident_id)
            if row is None:
                raise NotFoundError("incident", incident_id)
            return cv.incident_from_row(row)

    def list_incidents(
        self, *, status: IncidentStatus | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[Incident], int]:
        """A page of incidents, newest opened first, and the total that match."""
        conds: list[ColumnElement[bool]] = []
        if status is not None:
            conds.append(IncidentRow.status == IncidentStatus(status).value)
        order = (IncidentRow.opened_ts.desc(), IncidentRow.id.desc())
        with self._tx() as s:
            rows, total = self._page(s, IncidentRow, conds, order, limit, offset)
            return [cv.incident_from_row(r) for r in rows], total

    # -- audit (append-only: no update, no delete) ---------------------------------------------

    def append_audit(self, event: AuditEvent) -> AuditEvent:
        """Append one audit event; returns it with its id."""
        if event.id is not None:
            raise InvalidInputError("event.id", "must be empty for a new audit event")
        with self._tx(write=True) as s:
            row = AuditEventRow(**cv.audit_values(event))
            s.add(row)
            s.flush()
            return event.model_copy(update={"id": row.id})

    def audit(
        self,
        actor: str,
        action: str,
        target: str | None = None,
        *,
        reason: str = "",
        inputs: dict[str, Any] | None = None,
        result: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """The one way opsgraph records a side effect: who did what to what, why, with which
        inputs and result, now."""
        return self.append_audit(
            AuditEvent(
                ts=time.time(),
                actor=actor,
                action=action,
                target=target,
                reason=reason,
                inputs=inputs or {},
                result=result or {},
            )
        )

    def list_audit(
        self,
        *,
        action: str | None = None,
        target: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[AuditEvent], int]:
        """A page of audit events, newest first, and the total that match."""
        conds: list[ColumnElement[bool]] = []
        if action is not None:
            conds.append(AuditEventRow.action == action)
        if target is not None:
            conds.append(AuditEventRow.target == target)
        order = (AuditEventRow.ts.desc(), AuditEventRow.id.desc())
        with self._tx() as s:
            rows, total = self._page(s, AuditEventRow, conds, order, limit, offset)
            return [cv.audit_from_row(r) for r in rows], total

    def incident_notifications(self, incident_id: int, *, limit: int = 50) -> list[AuditEvent]:
        """The notifier's audit of what it sent, failed to send or held back about an incident
        or one of its anomalies (their labels name the incident), newest first."""
        label = AuditEventRow.inputs[("labels", "incident")].as_string()
        conds = [
            AuditEventRow.actor == NOTIFY_ACTOR,
            AuditEventRow.action.in_(NOTIFY_ACTIONS),
            label == str(incident_id),
        ]
        order = (AuditEventRow.ts.desc(), AuditEventRow.id.desc())
        with self._tx() as s:
            rows = s.scalars(select(AuditEventRow).where(*conds).order_by(*order).limit(limit))
            return [cv.audit_from_row(r) for r in rows]
