"""Forecasts of stored series: a metric's next hours or days with an 80 % interval, and the
forecasters that can make them (docs/forecasting.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from opsgraph.api.deps import StoreDep
from opsgraph.core.errors import InvalidInputError
from opsgraph.forecast import available
from opsgraph.forecast.serve import AUTO, MAX_HORIZON_S, forecast_series

router = APIRouter(tags=["forecasting"])


@router.get("/forecasters", summary="The registered forecasters")
def list_forecasters() -> dict[str, list[str]]:
    return {"forecasters": [AUTO, *sorted(available())]}


@router.get(
    "/resources/{resource_id}/forecast",
    summary="A metric's forecast with its 80 % interval, from its stored history",
)
def get_forecast(
    resource_id: str,
    store: StoreDep,
    metric: Annotated[str, Query(min_length=1, max_length=200, description="The series.")],
    horizon_s: Annotated[
        float,
        Query(gt=0, le=MAX_HORIZON_S, allow_inf_nan=False, description="Seconds ahead."),
    ] = 86_400.0,
    step_s: Annotated[
        float | None,
        Query(
            gt=0,
            allow_inf_nan=False,
            description="Seconds between forecast points (a multiple of the history's step; "
            "default: the history's step).",
        ),
    ] = None,
    forecaster: Annotated[
        str,
        Query(
            max_length=100,
            description="A registered forecaster, or `auto`: the seasonal profile over weeks "
            "from 9 days of history, over days from 2, else the last value.",
        ),
    ] = AUTO,
    history_points: Annotated[
        int, Query(ge=10, le=200_000, description="Latest stored points fitted on.")
    ] = 50_000,
) -> dict[str, Any]:
    store.get_resource(resource_id)  # 404 for an unknown resource
    series = store.read_samples(resource_id, metrics=[metric], limit=history_points)
    if metric not in series:
        known = ", ".join(sorted(store.read_samples(resource_id, limit=1))) or "none"
        raise InvalidInputError(
            "metric", f"{resource_id} has no stored series {metric!r} (stored: {known})"
        )
    ts, values = series[metric]
    result = forecast_series(ts, values, horizon_s=horizon_s, step_s=step_s, forecaster=forecaster)
    return {"resource_id": resource_id, "metric": metric, **result}
