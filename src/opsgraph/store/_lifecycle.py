"""The alert-lifecycle half of `Store`: anomaly state changes, silences, incident timelines
and the severity statistics of anomalies.

Anomaly rows are written by `write_batch` as detection goes; operators change only their
status, incident link, duplicate/silence marks and reason here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select, update

from opsgraph.core.errors import InvalidInputError, NotFoundError
from opsgraph.core.models import Anomaly, AnomalyStatus, IncidentEvent, Matcher, Silence
from opsgraph.store import _convert as cv
from opsgraph.store._base import StoreBase, check_range
from opsgraph.store.tables import AnomalyRow, IncidentEventRow, IncidentRow, SilenceRow

#: Anomaly fields an operator or the lifecycle may change after detection wrote the row.
LIFECYCLE_FIELDS = (
    "status",
    "end_ts",
    "incident_id",
    "fingerprint",
    "duplicate_of",
    "silence_id",
    "reason",
)


class LifecycleStore(StoreBase):
    """Anomaly lifecycle, silences and incident timelines."""

    # -- anomalies -----------------------------------------------------------------------------

    def set_anomaly_fields(self, anomaly_id: int, **fields: Any) -> Anomaly:
        """Change lifecycle fields of one anomaly (see LIFECYCLE_FIELDS); returns it."""
        unknown = set(fields) - set(LIFECYCLE_FIELDS)
        if unknown:
            raise InvalidInputError(sorted(unknown)[0], "is not a lifecycle field of an anomaly")
        values = {k: (v.value if isinstance(v, AnomalyStatus) else v) for k, v in fields.items()}
        with self._tx(write=True) as s:
            row = s.get(AnomalyRow, anomaly_id)
            if row is None:
                raise NotFoundError("anomaly", anomaly_id)
            for key, value in values.items():
                setattr(row, key, value)
            s.flush()
            return cv.anomaly_from_row(row)

    def link_anomalies(self, anomaly_ids: Sequence[int], incident_id: int) -> None:
        """Put anomalies into an incident (one statement)."""
        if not anomaly_ids:
            return
        with self._tx(write=True) as s:
            s.execute(
                update(AnomalyRow)
                .where(AnomalyRow.id.in_(list(anomaly_ids)))
                .values(incident_id=incident_id, reason="")
            )

    def find_open_by_fingerprint(
        self, fingerprint: str, *, exclude_id: int | None = None
    ) -> Anomaly | None:
        """The oldest unresolved, non-duplicate anomaly with this fingerprint."""
        conds = [
            AnomalyRow.fingerprint == fingerprint,
            AnomalyRow.status != AnomalyStatus.RESOLVED.value,
            AnomalyRow.duplicate_of.is_(None),
        ]
        if exclude_id is not None:
            conds.append(AnomalyRow.id != exclude_id)
        with self._tx() as s:
            row = s.scalars(select(AnomalyRow).where(*conds).order_by(AnomalyRow.id)).first()
            return None if row is None else cv.anomaly_from_row(row)

    def ungrouped_anomalies(self, *, since: float) -> list[Anomaly]:
        """Unresolved anomalies in no incident, not duplicates, not silenced, seen since `since`
        (the pool an incident is opened from)."""
        conds = [
            AnomalyRow.incident_id.is_(None),
            AnomalyRow.status != AnomalyStatus.RESOLVED.value,
            AnomalyRow.duplicate_of.is_(None),
            AnomalyRow.silence_id.is_(None),
            AnomalyRow.last_ts >= since,
        ]
        with self._tx() as s:
            rows = s.scalars(select(AnomalyRow).where(*conds).order_by(AnomalyRow.start_ts))
            return [cv.anomaly_from_row(r) for r in rows]

    def incident_anomalies(self, incident_id: int) -> list[Anomaly]:
        with self._tx() as s:
            query = (
                select(AnomalyRow)
                .where(AnomalyRow.incident_id == incident_id)
                .order_by(AnomalyRow.start_ts, AnomalyRow.id)
            )
            return [cv.anomaly_from_row(r) for r in s.scalars(query)]

    def anomaly_stats(
        self, *, start: float | None = None, end: float | None = None
    ) -> dict[str, dict[str, int]]:
        """Counts of anomalies by status and severity (episodes overlapping [start, end])."""
        check_range(start, end)
        conds: list[ColumnElement[bool]] = []
        if start is not None:
            conds.append(func.coalesce(AnomalyRow.end_ts, AnomalyRow.last_ts) >= start)
        if end is not None:
            conds.append(AnomalyRow.start_ts <= end)
        query = (
            select(AnomalyRow.status, AnomalyRow.severity, func.count())
            .where(*conds)
            .group_by(AnomalyRow.status, AnomalyRow.severity)
        )
        out: dict[str, dict[str, int]] = {}
        with self._tx() as s:
            for status, severity, n in s.execute(query):
                out.setdefault(str(status), {})[str(severity)] = int(n)
        return out

    def open_incidents(self) -> list[Any]:
        """Incidents not resolved, newest first (what a new anomaly may join)."""
        with self._tx() as s:
            query = (
                select(IncidentRow)
                .where(IncidentRow.status != "resolved")
                .order_by(IncidentRow.opened_ts.desc(), IncidentRow.id.desc())
            )
            return [cv.incident_from_row(r) for r in s.scalars(query)]

    # -- incident timelines --------------------------------------------------------------------

    def add_incident_events(self, events: Sequence[IncidentEvent]) -> list[IncidentEvent]:
        out = []
        with self._tx(write=True) as s:
            for i, event in enumerate(events):
                if event.id is not None:
                    raise InvalidInputError(f"events[{i}].id", "must be empty for a new event")
                if s.get(IncidentRow, event.incident_id) is None:
                    raise NotFoundError("incident", event.incident_id)
                row = IncidentEventRow(
                    incident_id=event.incident_id,
                    ts=event.ts,
                    kind=event.kind,
                    actor=event.actor,
                    message=event.message,
                    payload=cv.check_json(dict(event.payload), f"events[{i}].payload"),
                )
                s.add(row)
                s.flush()
                out.append(event.model_copy(update={"id": row.id}))
        return out

    def incident_timeline(self, incident_id: int) -> list[IncidentEvent]:
        with self._tx() as s:
            if s.get(IncidentRow, incident_id) is None:
                raise NotFoundError("incident", incident_id)
            query = (
                select(IncidentEventRow)
                .where(IncidentEventRow.incident_id == incident_id)
                .order_by(IncidentEventRow.ts, IncidentEventRow.id)
            )
            return [
                IncidentEvent(
                    id=r.id,
                    incident_id=r.incident_id,
                    ts=r.ts,
                    kind=r.kind,
                    actor=r.actor,
                    message=r.message,
                    payload=dict(r.payload),
                )
                for r in s.scalars(query)
            ]

    # -- silences ------------------------------------------------------------------------------

    def add_silence(self, silence: Silence) -> Silence:
        if silence.id is not None:
            raise InvalidInputError("silence.id", "must be empty for a new silence")
        if silence.ends_ts <= silence.starts_ts:
            raise InvalidInputError("ends_ts", "must be after starts_ts")
        with self._tx(write=True) as s:
            row = SilenceRow(
                matchers=[m.model_dump() for m in silence.matchers],
                starts_ts=silence.starts_ts,
                ends_ts=silence.ends_ts,
                comment=silence.comment,
                created_by=silence.created_by,
                created_ts=silence.created_ts,
            )
            s.add(row)
            s.flush()
            return silence.model_copy(update={"id": row.id})

    def list_silences(self, *, ending_after: float | None = None) -> list[Silence]:
        conds = [] if ending_after is None else [SilenceRow.ends_ts > ending_after]
        with self._tx() as s:
            rows = s.scalars(select(SilenceRow).where(*conds).order_by(SilenceRow.id))
            return [_silence(r) for r in rows]

    def expire_silence(self, silence_id: int, at: float) -> Silence:
        """End a silence now (kept for the record, like Alertmanager's expire)."""
        with self._tx(write=True) as s:
            row = s.get(SilenceRow, silence_id)
            if row is None:
                raise NotFoundError("silence", silence_id)
            row.ends_ts = min(row.ends_ts, max(at, row.starts_ts))
            s.flush()
            return _silence(row)


def _silence(row: SilenceRow) -> Silence:
    return Silence(
        id=row.id,
        matchers=[Matcher.model_validate(m) for m in row.matchers],
        starts_ts=row.starts_ts,
        ends_ts=row.ends_ts,
        comment=row.comment,
        created_by=row.created_by,
        created_ts=row.created_ts,
    )
