"""Resources: list, one by id, register a topology, and read a resource's metrics over time
(optionally with the robust_z detector's expected value and band per point).

Registering is how pushed samples (POST /ingest/samples) come to name known resources.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from opsgraph.api.deps import RuntimeDep, StoreDep
from opsgraph.api.routes.common import TimeBound
from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Dependency, Resource
from opsgraph.detect.band import rolling_band, threshold_z
from opsgraph.detect.settings import DetectSettings
from opsgraph.store import Store

router = APIRouter(prefix="/resources", tags=["resources"])

#: rolling_band's default relative floor of the scale, reported with the band.
BAND_REL_FLOOR = inspect.signature(rolling_band).parameters["rel_floor"].default


class Topology(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resources: list[Resource] = Field(default_factory=list, max_length=20_000)
    dependencies: list[Dependency] = Field(default_factory=list, max_length=200_000)


@router.get("", summary="List resources")
def list_resources(runtime: RuntimeDep) -> list[Resource]:
    return sorted(runtime.estate.resources.values(), key=lambda r: r.id)


@router.post("", summary="Register or update resources and dependencies")
def register(topology: Topology, runtime: RuntimeDep) -> dict[str, int]:
    known = set(runtime.estate.resources) | {r.id for r in topology.resources}
    for i, dep in enumerate(topology.dependencies):
        for end in ("source", "target"):
            if getattr(dep, end) not in known:
                raise InvalidInputError(
                    f"dependencies[{i}].{end}", f"unknown resource {getattr(dep, end)!r}"
                )
    runtime.estate.upsert(topology.resources, topology.dependencies)
    runtime.hub.publish("graph:update", {"nodes": [], "topology": True})
    return {"resources": len(topology.resources), "dependencies": len(topology.dependencies)}


@router.get("/{resource_id}", summary="One resource")
def get_resource(resource_id: str, store: StoreDep) -> Resource:
    return store.get_resource(resource_id)


@router.get("/{resource_id}/metrics", summary="A resource's metrics over a time range")
def get_metrics(
    resource_id: str,
    store: StoreDep,
    runtime: RuntimeDep,
    metrics: Annotated[list[str] | None, Query(description="Repeat for several.")] = None,
    start: TimeBound = None,
    end: TimeBound = None,
    limit: Annotated[int, Query(ge=1, le=100_000, description="Latest points per metric.")] = 2000,
    band: Annotated[
        bool,
        Query(
            description="Add the robust_z detector's expected value and band per point "
            "(expected, lower, upper; null while it warms up); `band` names the detector and "
            "its parameters, and `pipeline_detector` the one that scores the series."
        ),
    ] = False,
    k: Annotated[
        float | None,
        Query(
            ge=0,
            le=1000,
            allow_inf_nan=False,
            description="Band half-width in robust sigmas; default: the z at which a point "
            "becomes an anomaly (detect.alert_threshold through z_onset and z_scale).",
        ),
    ] = None,
) -> dict[str, Any]:
    store.get_resource(resource_id)  # 404 for an unknown resource
    if start is not None and end is not None and start > end:
        raise InvalidInputError("start", "must not be after end")
    series = store.read_samples(resource_id, metrics=metrics, start=start, end=end, limit=limit)
    out: dict[str, Any] = {
        "resource_id": resource_id,
        "series": {m: {"ts": ts, "values": vs} for m, (ts, vs) in series.items()},
    }
    if band:
        out["band"] = _add_bands(out["series"], store, resource_id, runtime.settings.detect, k)
    return out


def _add_bands(
    series: dict[str, dict[str, Any]],
    store: Store,
    resource_id: str,
    cfg: DetectSettings,
    k: float | None,
) -> dict[str, Any]:
    """Fill expected / lower / upper into each series; returns the band's parameters."""
    params: dict[str, Any] = {
        "window": cfg.window,
        "min_points": min(cfg.min_points, cfg.window),
        "rel_floor": BAND_REL_FLOOR,
    }
    if cfg.detector == "robust_z":  # its own params win, as when the pipeline builds it
        params.update(
            {p: cfg.params[p] for p in ("window", "min_points", "rel_floor") if p in cfg.params}
        )
    if k is None:
        if cfg.alert_threshold >= 1.0:
            raise InvalidInputError("k", "needed: detect.alert_threshold is 1, so no band applies")
        k = threshold_z(cfg.alert_threshold, cfg.z_onset, cfg.z_scale)
    window = int(params["window"])
    for metric, entry in series.items():
        ts, values = entry["ts"], entry["values"]
        # The window before the first point shown, so the band starts warm, as the detector was.
        history: list[float] = []
        if ts:
            earlier = store.read_samples(resource_id, metrics=[metric], end=ts[0], limit=window + 1)
            h_ts, h_vs = earlier.get(metric, ([], []))
            history = [v for t, v in zip(h_ts, h_vs, strict=True) if t < ts[0]][-window:]
        result = rolling_band(np.asarray(history + values, dtype=np.float64), k=k, **params)
        skip = len(history)
        for name in ("expected", "lower", "upper"):
            column = getattr(result, name)[skip:]
            # JSON has no NaN: warming-up points are null.
            entry[name] = [None if v != v else v for v in column.tolist()]
    # The band is robust_z's whatever scores the series: say so, and what does score them.
    return {"k": k, "detector": "robust_z", **params, "pipeline_detector": cfg.detector}
