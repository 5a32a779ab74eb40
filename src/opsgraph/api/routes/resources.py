"""Resources: list, one by id, register a topology, and read a resource's metrics over time.

Registering is how pushed samples (POST /ingest/samples) come to name known resources.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from opsgraph.api.deps import RuntimeDep, StoreDep
from opsgraph.api.routes.common import TimeBound
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Dependency, Resource

router = APIRouter(prefix="/resources", tags=["resources"])


class Topology(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resources: list[Resource] = Field(default_factory=list, max_length=20_000)
    dependencies: list[Dependency] = Field(default_factory=list, max_length=200_000)


@router.get("", summary="List resources")
def list_resources(runtime: RuntimeDep) -> list[Resource]:
    return sorted(runtime.resources.values(), key=lambda r: r.id)


@router.post("", summary="Register or update resources and dependencies")
def register(topology: Topology, runtime: RuntimeDep) -> dict[str, int]:
    known = set(runtime.resources) | {r.id for r in topology.resources}
    for i, dep in enumerate(topology.dependencies):
        for end in ("source", "target"):
            if getattr(dep, end) not in known:
                raise InvalidInputError(
                    f"dependencies[{i}].{end}", f"unknown resource {getattr(dep, end)!r}"
                )
    runtime.upsert_topology(topology.resources, topology.dependencies)
    runtime.hub.publish("graph:update", {"nodes": [], "topology": True})
    return {"resources": len(topology.resources), "dependencies": len(topology.dependencies)}


@router.get("/{resource_id}", summary="One resource")
def get_resource(resource_id: str, store: StoreDep) -> Resource:
    return store.get_resource(resource_id)


@router.get("/{resource_id}/metrics", summary="A resource's metrics over a time range")
def get_metrics(
    resource_id: str,
    store: StoreDep,
    metrics: Annotated[list[str] | None, Query(description="Repeat for several.")] = None,
    start: TimeBound = None,
    end: TimeBound = None,
    limit: Annotated[int, Query(ge=1, le=100_000, description="Latest points per metric.")] = 2000,
) -> dict[str, Any]:
    store.get_resource(resource_id)  # 404 for an unknown resource
    if start is not None and end is not None and start > end:
        raise InvalidInputError("start", "must not be after end")
    series = store.read_samples(resource_id, metrics=metrics, start=start, end=end, limit=limit)
    return {
        "resource_id": resource_id,
        "series": {m: {"ts": ts, "values": vs} for m, (ts, vs) in series.items()},
    }
