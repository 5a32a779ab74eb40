"""The operator-control half of `Store`: feedback on anomalies and maintenance windows.

Feedback is append-only (a later verdict supersedes an earlier one); windows can be removed.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, select

from opsgraph.core.errors import InvalidInputError, NotFoundError
from opsgraph.core.models import Feedback, MaintenanceWindow
from opsgraph.store import _convert as cv
from opsgraph.store._base import StoreBase
from opsgraph.store.tables import AnomalyRow, FeedbackRow, MaintenanceRow


class ControlStore(StoreBase):
    """Feedback and maintenance windows."""

    def add_feedback(self, feedback: Feedback) -> Feedback:
        """Record a verdict; the anomaly must exist and match the feedback's series."""
        if feedback.id is not None:
            raise InvalidInputError("feedback.id", "must be empty for new feedback")
        with self._tx(write=True) as s:
            anomaly = s.get(AnomalyRow, feedback.anomaly_id)
            if anomaly is None:
                raise NotFoundError("anomaly", feedback.anomaly_id)
            if (anomaly.resource_id, anomaly.metric) != (feedback.resource_id, feedback.metric):
                raise InvalidInputError("feedback", "does not match the anomaly's series")
            row = FeedbackRow(
                anomaly_id=feedback.anomaly_id,
                resource_id=feedback.resource_id,
                metric=feedback.metric,
                verdict=feedback.verdict.value,
                score=feedback.score,
                note=feedback.note,
                actor=feedback.actor,
                ts=feedback.ts,
            )
            s.add(row)
            s.flush()
            return feedback.model_copy(update={"id": row.id})

    def list_feedback(
        self,
        *,
        anomaly_id: int | None = None,
        resource_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Feedback], int]:
        """A page of feedback, newest first, and the total that match."""
        conds: list[ColumnElement[bool]] = []
        if anomaly_id is not None:
            conds.append(FeedbackRow.anomaly_id == anomaly_id)
        if resource_id is not None:
            conds.append(FeedbackRow.resource_id == resource_id)
        order = (FeedbackRow.ts.desc(), FeedbackRow.id.desc())
        with self._tx() as s:
            rows, total = self._page(s, FeedbackRow, conds, order, limit, offset)
            return [cv.feedback_from_row(r) for r in rows], total

    def all_feedback(self) -> list[Feedback]:
        """Every verdict, oldest first (to rebuild the decision step's state at start)."""
        with self._tx() as s:
            rows = s.scalars(select(FeedbackRow).order_by(FeedbackRow.ts, FeedbackRow.id))
            return [cv.feedback_from_row(r) for r in rows]

    def add_maintenance(self, window: MaintenanceWindow) -> MaintenanceWindow:
        if window.id is not None:
            raise InvalidInputError("window.id", "must be empty for a new window")
        if not window.end_ts > window.start_ts:
            raise InvalidInputError("end_ts", "must be after start_ts")
        with self._tx(write=True) as s:
            unknown = set(window.resource_ids) - self._existing_resource_ids(s, window.resource_ids)
            if unknown:
                raise InvalidInputError("resource_ids", f"unknown resource {sorted(unknown)[0]!r}")
            row = MaintenanceRow(
                resource_ids=list(window.resource_ids),
                start_ts=window.start_ts,
                end_ts=window.end_ts,
                reason=window.reason,
                actor=window.actor,
                created_ts=window.created_ts,
            )
            s.add(row)
            s.flush()
            return window.model_copy(update={"id": row.id})

    def list_maintenance(self, *, ending_after: float | None = None) -> list[MaintenanceWindow]:
        """Windows by start time; `ending_after` keeps those not over by then."""
        query = select(MaintenanceRow).order_by(MaintenanceRow.start_ts, MaintenanceRow.id)
        if ending_after is not None:
            query = query.where(MaintenanceRow.end_ts > ending_after)
        with self._tx() as s:
            return [cv.window_from_row(r) for r in s.scalars(query)]

    def delete_maintenance(self, window_id: int) -> None:
        with self._tx(write=True) as s:
            gone = s.execute(delete(MaintenanceRow).where(MaintenanceRow.id == window_id))
            if gone.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFoundError("maintenance window", window_id)
