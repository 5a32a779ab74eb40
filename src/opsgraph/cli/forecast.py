"""`opsgraph forecast show RESOURCE --metric M`: a stored series' forecast, from a running
opsgraph (GET /resources/{id}/forecast; docs/forecasting.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote, urlencode

import typer
from rich.table import Table

from opsgraph.cli.common import UrlOpt, call_api, console

forecast_app = typer.Typer(help="Load forecasts of stored series.", no_args_is_help=True)

#: Most rows the table shows; longer forecasts are shown every k-th point.
MAX_ROWS = 24


@forecast_app.command("show")
def forecast_show(
    resource: Annotated[str, typer.Argument(help="The resource id.")],
    metric: Annotated[str, typer.Option("--metric", "-m", help="The series to forecast.")],
    url: UrlOpt = "",
    horizon_s: Annotated[
        float, typer.Option("--horizon-s", min=1, help="Seconds ahead (at most 14 days).")
    ] = 86_400.0,
    step_s: Annotated[
        float | None,
        typer.Option(
            "--step-s", min=1, help="Seconds between points (default: the history's step)."
        ),
    ] = None,
    forecaster: Annotated[
        str, typer.Option(help="A registered forecaster, or auto (see GET /forecasters).")
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
) -> None:
    """The forecast of RESOURCE's METRIC with its 80 % interval, fitted on its stored
    history by a running opsgraph ($OPSGRAPH_URL, $OPSGRAPH_API_KEY)."""
    params: dict[str, str | float] = {
        "metric": metric,
        "horizon_s": horizon_s,
        "forecaster": forecaster,
    }
    if step_s is not None:
        params["step_s"] = step_s
    base = url.rstrip("/")
    where = f"{base}/resources/{quote(resource, safe='')}/forecast?{urlencode(params)}"
    body = call_api("GET", where)
    if as_json:
        console.print_json(json.dumps(body))
        return
    made = body["forecaster"]
    chosen = made.get("chosen")
    how = made["name"] + (
        f" (period {made['params']['period_s']:g} s, {chosen['periods']} periods, level over "
        f"{chosen['level_s']:g} s)"
        if chosen
        else ""
    )
    history = body["history"]
    console.print(
        f"{resource} {metric}: {how}, asked {body['asked']}; fitted on {history['points']:,} "
        f"points every {history['step_s']:g} s up to {_when(history['end'])}"
    )
    n = len(body["ts"])
    every = max(1, -(-n // MAX_ROWS))
    title = f"next {horizon_s:g} s, 80 % interval"
    if every > 1:
        title += f" (every {every}th point)"
    table = Table(title=title)
    for col in ("time (UTC)", "forecast", "low (q0.1)", "high (q0.9)"):
        table.add_column(col, justify="right")
    for i in range(every - 1, n, every):
        table.add_row(
            _when(body["ts"][i]),
            f"{body['mean'][i]:.4g}",
            f"{body['lower'][i]:.4g}",
            f"{body['upper'][i]:.4g}",
        )
    console.print(table)


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")
