"""The log half of `Store`: scored log lines, written in batches and read back in pages.

A batch is stored all or nothing; lists are newest first with a total count for paging.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, insert

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import LogLevel, LogRecord
from opsgraph.store._base import StoreBase, check_range
from opsgraph.store.tables import LogRow


def _record(row: LogRow) -> LogRecord:
    return LogRecord(
        id=row.id,
        ts=row.ts,
        resource_id=row.resource_id,
        level=LogLevel(row.level),
        message=row.message,
        template_id=row.template_id,
        template=row.template,
        score=row.score,
    )


class LogsStore(StoreBase):
    """Log lines."""

    def add_logs(self, records: Sequence[LogRecord]) -> int:
        """Store scored lines in one transaction; every resource must exist. Returns the count."""
        for i, rec in enumerate(records):
            if rec.id is not None:
                raise InvalidInputError(f"logs[{i}].id", "must be empty for a new line")
        if not records:
            return 0
        with self._tx(write=True) as s:
            known = self._existing_resource_ids(s, (r.resource_id for r in records))
            for i, rec in enumerate(records):
                if rec.resource_id not in known:
                    raise InvalidInputError(
                        f"logs[{i}].resource_id", f"unknown resource {rec.resource_id!r}"
                    )
            s.execute(
                insert(LogRow),
                [rec.model_dump(mode="json", exclude={"id"}) for rec in records],
            )
        return len(records)

    def list_logs(
        self,
        *,
        resource_id: str | None = None,
        levels: Sequence[LogLevel] | None = None,
        min_score: float | None = None,
        start: float | None = None,
        end: float | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[LogRecord], int]:
        """A page of lines in [start, end], newest first (ts, then id), and the total."""
        check_range(start, end)
        conds: list[ColumnElement[bool]] = []
        if resource_id is not None:
            conds.append(LogRow.resource_id == resource_id)
        if levels is not None:
            conds.append(LogRow.level.in_([LogLevel(x).value for x in levels]))
        if min_score is not None:
            conds.append(LogRow.score >= min_score)
        if start is not None:
            conds.append(LogRow.ts >= start)
        if end is not None:
            conds.append(LogRow.ts <= end)
        order = (LogRow.ts.desc(), LogRow.id.desc())
        with self._tx() as s:
            rows, total = self._page(s, LogRow, conds, order, limit, offset)
            return [_record(r) for r in rows], total
