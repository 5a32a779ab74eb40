"""Series catalogues: which metrics a resource has stored (with their number of points and time
span), and a search for series across resources, for the console's series finder.

Any stored series can then be read with GET /resources/{id}/metrics?metrics=NAME.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from opsgraph.api.deps import RuntimeDep, StoreDep
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Resource
from opsgraph.store._catalogue import SeriesInfo

router = APIRouter(tags=["resources"])

#: Most series one search returns: each costs a count over its points.
MAX_SEARCH = 200


class SeriesStats(BaseModel):
    metric: str
    points: int
    first_ts: float | None
    last_ts: float | None


class Catalogue(BaseModel):
    resource_id: str
    kind: str
    series: list[SeriesStats]


class FoundSeries(SeriesStats):
    resource_id: str
    kind: str
    name: str


class SeriesSearch(BaseModel):
    q: str
    limit: int
    items: list[FoundSeries]
    more: bool


def _stats(info: SeriesInfo) -> SeriesStats:
    return SeriesStats(
        metric=info.metric, points=info.points, first_ts=info.first_ts, last_ts=info.last_ts
    )


@router.get("/resources/{resource_id}/series", summary="The series a resource has stored")
def catalogue(resource_id: str, store: StoreDep) -> Catalogue:
    """Every metric stored for the resource, by name, with its number of points and first
    and last timestamps (null while it has none); 404 for an unknown resource."""
    resource = store.get_resource(resource_id)
    found = store.series_catalogue(resource_id)
    return Catalogue(
        resource_id=resource_id, kind=resource.kind.value, series=[_stats(i) for i in found]
    )


def _matches(resource: Resource, needle: str) -> bool:
    if (
        needle in resource.id.lower()
        or needle in resource.kind.value
        or needle in resource.name.lower()
    ):
        return True
    return any(needle in f"{k}={v}".lower() for k, v in resource.tags.items())


@router.get("/series", summary="Find series across resources")
def search(
    runtime: RuntimeDep,
    store: StoreDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="Contained (ignoring case) in the metric name, the resource's id, "
            "name or kind, or one of its tags written key=value.",
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=MAX_SEARCH, description=f"Series (1-{MAX_SEARCH}).")] = 20,
) -> SeriesSearch:
    """Series by (resource id, metric), each with its resource's kind and name, number of
    points and time span; `more` says that further series match."""
    needle = q.strip().lower()
    if not needle:
        raise InvalidInputError("q", "must contain something other than spaces")
    resources = list(runtime.estate.resources.values())
    matched = [r.id for r in resources if _matches(r, needle)]
    found = store.find_series(needle, resource_ids=matched, limit=limit + 1)
    items = [
        FoundSeries(resource_id=i.resource_id, kind=i.kind, name=i.name, **_stats(i).model_dump())
        for i in found[:limit]
    ]
    return SeriesSearch(q=q, limit=limit, items=items, more=len(found) > limit)
