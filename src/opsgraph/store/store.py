"""The one persistence API of opsgraph: topology, series and samples, anomalies, events, audit.

SQLite (a file, the default) or PostgreSQL; each method is one transaction, errors roll back.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from alembic import command
from alembic.config import Config
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from opsgraph.core.errors import InvalidInputError, NotFoundError, StoreError
from opsgraph.core.metrics import METRIC_NAME_RE
from opsgraph.core.models import Anomaly, Dependency, Event, Resource
from opsgraph.store import _convert as cv
from opsgraph.store._auth import AuthStore
from opsgraph.store._automation import AutomationStore
from opsgraph.store._base import check_range, chunks, describe
from opsgraph.store._catalogue import CatalogueStore
from opsgraph.store._control import ControlStore
from opsgraph.store._engine import WRITE_OPTION
from opsgraph.store._lifecycle import LifecycleStore
from opsgraph.store._logs import LogsStore
from opsgraph.store._records import RecordsStore
from opsgraph.store._samples import INT4_MAX, insert_postgresql, insert_sqlite
from opsgraph.store.tables import (
    TABLE_NAMES,
    DependencyRow,
    ResourceRow,
    SeriesRow,
    metadata,
    samples,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class Store(
    RecordsStore,
    ControlStore,
    LifecycleStore,
    AuthStore,
    LogsStore,
    AutomationStore,
    CatalogueStore,
):
    """Persistence of every opsgraph domain object; one instance per process, thread-safe."""

    def __init__(self, url: str, *, echo: bool = False, schema: str | None = None) -> None:
        """Open (lazily) the database at `url` ("sqlite:///file.db", "postgresql+psycopg://...").

        `schema` (PostgreSQL only; ignored for SQLite) puts every table, alembic's version table
        included, in that schema through the connection's search_path.
        """
        super().__init__(url, echo=echo, schema=schema)
        self._insert_samples = insert_sqlite if self.dialect == "sqlite" else insert_postgresql
        # Series are never deleted, so an id once seen stays valid.
        self._known_series: set[int] = set()

    def __enter__(self) -> Store:
        return self

    # -- schema --------------------------------------------------------------------------------

    def has_schema(self) -> bool:
        """Whether the database holds opsgraph's tables (it has been migrated once)."""
        try:
            with self._engine.connect() as conn:
                return bool(inspect(conn).has_table("resources", schema=self.schema))
        except SQLAlchemyError:
            return False

    def migrate(self) -> None:
        """Bring the schema to the newest migration (alembic upgrade head); safe to repeat."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        try:
            with self._serial, self._engine.connect() as conn:
                conn.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    if self.dialect == "postgresql":
                        # Two processes starting at once must not both create the tables.
                        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('opsgraph'))"))
                        if self.schema is not None:
                            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
        except (SQLAlchemyError, self._db_error) as exc:
            raise StoreError(describe(exc)) from exc

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        with self._tx() as s:
            return {
                name: int(s.scalar(select(func.count()).select_from(metadata.tables[name])) or 0)
                for name in TABLE_NAMES
            }

    # -- topology ------------------------------------------------------------------------------

    def upsert_topology(
        self, resources: Sequence[Resource], dependencies: Sequence[Dependency]
    ) -> None:
        """Insert or update resources and dependencies (nothing is deleted), all or nothing."""
        by_id = {r.id: r for r in resources}
        edges = {(d.source, d.target, d.kind): d for d in dependencies}
        now = time.time()
        with self._tx(write=True) as s:
            ends = {end for d in edges.values() for end in (d.source, d.target)}
            known = self._existing_resource_ids(s, ends - by_id.keys())
            for i, dep in enumerate(dependencies):
                for field, end in (("source", dep.source), ("target", dep.target)):
                    if end not in by_id and end not in known:
                        raise InvalidInputError(
                            f"dependencies[{i}].{field}", f"unknown resource {end!r}"
                        )
            conn = s.connection()
            if by_id:
                stmt = self._upsert(
                    ResourceRow,
                    ["id"],
                    ["kind", "name", "provider", "region", "tags", "attrs", "updated_at"],
                )
                index = {r.id: i for i, r in enumerate(resources)}
                rows = [
                    cv.resource_values(r, now, f"resources[{index[r.id]}]") for r in by_id.values()
                ]
                conn.execute(stmt, rows)
            if edges:
                stmt = self._upsert(DependencyRow, ["source_id", "target_id", "kind"], ["inferred"])
                conn.execute(stmt, [cv.dependency_values(d) for d in edges.values()])

    def list_resources(self) -> list[Resource]:
        with self._tx() as s:
            rows = s.scalars(select(ResourceRow).order_by(ResourceRow.id))
            return [cv.resource_from_row(r) for r in rows]

    def get_resource(self, resource_id: str) -> Resource:
        with self._tx() as s:
            row = s.get(ResourceRow, resource_id)
            if row is None:
                raise NotFoundError("resource", resource_id)
            return cv.resource_from_row(row)

    def list_dependencies(self) -> list[Dependency]:
        with self._tx() as s:
            query = select(DependencyRow).order_by(
                DependencyRow.source_id, DependencyRow.target_id, DependencyRow.kind
            )
            return [cv.dependency_from_row(r) for r in s.scalars(query)]

    # -- series and samples --------------------------------------------------------------------

    @staticmethod
    def _load_series(session: Session, resource_ids: Iterable[str]) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        for chunk in chunks(sorted(set(resource_ids))):
            query = select(SeriesRow.id, SeriesRow.resource_id, SeriesRow.metric).where(
                SeriesRow.resource_id.in_(chunk)
            )
            for sid, rid, metric in session.execute(query):
                found[(rid, metric)] = sid
        return found

    def ensure_series(self, keys: Sequence[tuple[str, str]]) -> list[int]:
        """Ids of the (resource_id, metric) series, in order; missing series are created."""
        keys = [(rid, metric) for rid, metric in keys]
        for i, (_rid, metric) in enumerate(keys):
            if not isinstance(metric, str) or not METRIC_NAME_RE.match(metric):
                raise InvalidInputError(
                    f"keys[{i}]", f"metric {metric!r} must match [a-zA-Z_][a-zA-Z0-9_:.]*"
                )
        if not keys:
            return []
        with self._tx(write=True) as s:
            known = self._existing_resource_ids(s, (rid for rid, _ in keys))
            for i, (rid, _metric) in enumerate(keys):
                if rid not in known:
                    raise InvalidInputError(f"keys[{i}]", f"unknown resource {rid!r}")
            found = self._load_series(s, known)
            missing = sorted({k for k in keys if k not in found})
            if missing:
                stmt = self._upsert(SeriesRow, ["resource_id", "metric"], [])
                s.connection().execute(
                    stmt, [{"resource_id": rid, "metric": metric} for rid, metric in missing]
                )
                found.update(self._load_series(s, (rid for rid, _ in missing)))
            ids = [found[(rid, metric)] for rid, metric in keys]
        self._known_series.update(ids)
        return ids

    def series_ids(self) -> dict[tuple[str, str], int]:
        """Every series: (resource_id, metric) -> id."""
        with self._tx() as s:
            query = select(SeriesRow.id, SeriesRow.resource_id, SeriesRow.metric)
            found = {(rid, metric): sid for sid, rid, metric in s.execute(query)}
        self._known_series.update(found.values())
        return found

    @staticmethod
    def _sample_arrays(
        series_ids: npt.NDArray[np.int64],
        ts: npt.NDArray[np.float64],
        values: npt.NDArray[np.float64],
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        raw_ids = np.asarray(series_ids)
        if raw_ids.size and not np.issubdtype(raw_ids.dtype, np.integer):
            raise InvalidInputError("series_ids", f"must be integers, got {raw_ids.dtype}")
        sid = raw_ids.astype(np.int64, copy=False)
        t = np.asarray(ts, dtype=np.float64)
        v = np.asarray(values, dtype=np.float64)
        for name, arr in (("series_ids", sid), ("ts", t), ("values", v)):
            if arr.ndim != 1:
                raise InvalidInputError(name, f"must be one-dimensional, got shape {arr.shape}")
        if not sid.shape == t.shape == v.shape:
            raise InvalidInputError(
                "values",
                f"lengths differ: {sid.shape[0]} series ids, {t.shape[0]} ts, {v.shape[0]}",
            )
        # NaN marks a gap (see SampleFrame): gaps are not stored.
        keep = np.isfinite(t) & np.isfinite(v)
        if not keep.all():
            sid, t, v = sid[keep], t[keep], v[keep]
        # Insert in index order, (series_id, ts): each series' index leaf is touched once in a
        # row instead of once per timestamp, which keeps big tables fast to append to.
        order = np.lexsort((t, sid))
        return sid[order], t[order], v[order]

    def _check_series_ids(self, session: Session, sid: npt.NDArray[np.int64]) -> None:
        unseen = [x for x in np.unique(sid).tolist() if x not in self._known_series]
        if not unseen:
            return
        valid = [x for x in unseen if 0 < x <= INT4_MAX]
        for chunk in chunks(valid):
            self._known_series.update(
                session.scalars(select(SeriesRow.id).where(SeriesRow.id.in_(chunk)))
            )
        for x in unseen:
            if x not in self._known_series:
                raise InvalidInputError("series_ids", f"unknown series id {x}")

    def write_batch(
        self,
        *,
        series_ids: npt.NDArray[np.int64],
        ts: npt.NDArray[np.float64],
        values: npt.NDArray[np.float64],
        new_anomalies: Sequence[Anomaly] = (),
        updated_anomalies: Sequence[Anomaly] = (),
        events: Sequence[Event] = (),
    ) -> list[Anomaly]:
        """Persist samples, new and updated anomalies and events in one transaction.

        Returns the new anomalies with their ids. Non-finite ts or values (gaps) are dropped.
        Updates change last_ts, end_ts, score, max_score, severity, value, expected, status and,
        when given, incident_id of the anomaly with the same id (NotFoundError if there is none).
        """
        sid, t, v = self._sample_arrays(series_ids, ts, values)
        for i, a in enumerate(new_anomalies):
            if a.id is not None:
                raise InvalidInputError(f"new_anomalies[{i}].id", "must be empty for a new anomaly")
        for i, a in enumerate(updated_anomalies):
            if a.id is None:
                raise InvalidInputError(f"updated_anomalies[{i}].id", "is required for an update")
        with self._tx(write=True) as s:
            self._check_series_ids(s, sid)
            known = self._existing_resource_ids(s, (a.resource_id for a in new_anomalies))
            for i, a in enumerate(new_anomalies):
                if a.resource_id not in known:
                    raise InvalidInputError(
                        f"new_anomalies[{i}].resource_id", f"unknown resource {a.resource_id!r}"
                    )
            links = self._anomaly_links(s, [a.id for a in updated_anomalies if a.id is not None])
            if sid.size:
                raw = s.connection().connection.dbapi_connection
                self._insert_samples(raw, sid, t, v)
            created = self._insert_anomalies(s, new_anomalies)
            self._update_anomalies(s, updated_anomalies, links)
            self._insert_events(s, events)
        return created

    def last_sample_ts(self) -> float | None:
        """The newest sample timestamp of all series, None while there are none (for resuming)."""
        return self._sample_ts_bound(func.max)

    def first_sample_ts(self) -> float | None:
        """The oldest sample timestamp of all series, None while there are none."""
        return self._sample_ts_bound(func.min)

    def _sample_ts_bound(self, bound: Any) -> float | None:
        # One index probe per series on (series_id, ts): a bare MAX(ts) would scan the table.
        per_series = (
            select(bound(samples.c.ts))
            .where(samples.c.series_id == SeriesRow.id)
            .correlate(SeriesRow)
            .scalar_subquery()
        )
        with self._tx() as s:
            value = s.scalar(select(bound(per_series)).select_from(SeriesRow))
            return None if value is None else float(value)

    def read_samples(
        self,
        resource_id: str,
        *,
        metrics: Sequence[str] | None = None,
        start: float | None = None,
        end: float | None = None,
        limit: int = 10_000,
    ) -> dict[str, tuple[list[float], list[float]]]:
        """metric -> (ts ascending, values): the latest `limit` points in [start, end] per metric.

        Metrics without a series are left out; NotFoundError for an unknown resource.
        """
        if limit < 1:
            raise InvalidInputError("limit", "must be 1 or more")
        check_range(start, end)
        out: dict[str, tuple[list[float], list[float]]] = {}
        with self._tx() as s:
            if s.get(ResourceRow, resource_id) is None:
                raise NotFoundError("resource", resource_id)
            query = select(SeriesRow.id, SeriesRow.metric).where(
                SeriesRow.resource_id == resource_id
            )
            if metrics is not None:
                query = query.where(SeriesRow.metric.in_(list(metrics)))
            for sid, metric in s.execute(query.order_by(SeriesRow.metric)).all():
                conds = [samples.c.series_id == sid]
                if start is not None:
                    conds.append(samples.c.ts >= start)
                if end is not None:
                    conds.append(samples.c.ts <= end)
                query_points = (
                    select(samples.c.ts, samples.c.value)
                    .where(*conds)
                    .order_by(samples.c.ts.desc())
                    .limit(limit)
                )
                points = list(s.execute(query_points))
                points.reverse()
                out[metric] = ([p[0] for p in points], [p[1] for p in points])
        return out
