"""The catalogue half of `Store`: which series exist, how many points each holds and over what
time, for one resource or by a search over metric names and resources.

Counts come from the (series_id, ts) index, and only for the series returned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from opsgraph.core.errors import InvalidInputError, NotFoundError
from opsgraph.store._base import StoreBase, chunks
from opsgraph.store.tables import ResourceRow, SeriesRow, samples


@dataclass(frozen=True)
class SeriesInfo:
    """One stored series: whose, which metric, its number of points and their time span
    (None while it has no point)."""

    resource_id: str
    kind: str
    name: str
    metric: str
    points: int
    first_ts: float | None
    last_ts: float | None


_Key = tuple[int, str, str, str, str]  # series id, resource id, kind, name, metric


def _series_query() -> Select[int, str, str, str, str]:
    return (
        select(
            SeriesRow.id,
            SeriesRow.resource_id,
            ResourceRow.kind,
            ResourceRow.name,
            SeriesRow.metric,
        )
        .join(ResourceRow, ResourceRow.id == SeriesRow.resource_id)
        .order_by(SeriesRow.resource_id, SeriesRow.metric)
    )


def _key(row: Row[int, str, str, str, str]) -> _Key:
    sid, rid, kind, name, metric = row
    return (sid, rid, kind, name, metric)


def _with_stats(session: Session, keys: Sequence[_Key]) -> list[SeriesInfo]:
    stats: dict[int, tuple[int, float | None, float | None]] = {}
    for chunk in chunks([k[0] for k in keys]):
        query = (
            select(
                samples.c.series_id, func.count(), func.min(samples.c.ts), func.max(samples.c.ts)
            )
            .where(samples.c.series_id.in_(chunk))
            .group_by(samples.c.series_id)
        )
        for sid, count, first, last in session.execute(query):
            stats[sid] = (
                int(count),
                None if first is None else float(first),
                None if last is None else float(last),
            )
    return [
        SeriesInfo(rid, kind, name, metric, *stats.get(sid, (0, None, None)))
        for sid, rid, kind, name, metric in keys
    ]


class CatalogueStore(StoreBase):
    """Series catalogues and series search."""

    def series_catalogue(self, resource_id: str) -> list[SeriesInfo]:
        """Every series of a resource, by metric name; NotFoundError for an unknown resource."""
        with self._tx() as s:
            if s.get(ResourceRow, resource_id) is None:
                raise NotFoundError("resource", resource_id)
            keys = s.execute(_series_query().where(SeriesRow.resource_id == resource_id)).all()
            return _with_stats(s, [_key(k) for k in keys])

    def find_series(
        self, metric_contains: str, *, resource_ids: Iterable[str] = (), limit: int = 20
    ) -> list[SeriesInfo]:
        """Series whose metric name contains `metric_contains` (ignoring case; "" matches none)
        or whose resource is one of `resource_ids`: the first `limit` by (resource id, metric)."""
        if limit < 1:
            raise InvalidInputError("limit", "must be 1 or more")
        needle = metric_contains.lower()
        found: dict[tuple[str, str], _Key] = {}
        with self._tx() as s:
            if needle:
                by_metric = _series_query().where(
                    func.lower(SeriesRow.metric).contains(needle, autoescape=True)
                )
                for k in s.execute(by_metric.limit(limit)):
                    found[(k[1], k[4])] = _key(k)
            # Resources in id order: once `limit` series are in, later chunks sort after them.
            taken = 0
            for chunk in chunks(sorted(set(resource_ids))):
                by_resource = _series_query().where(SeriesRow.resource_id.in_(chunk))
                for k in s.execute(by_resource.limit(limit)):
                    found[(k[1], k[4])] = _key(k)
                    taken += 1
                if taken >= limit:
                    break
            keys = [found[key] for key in sorted(found)][:limit]
            return _with_stats(s, keys)
