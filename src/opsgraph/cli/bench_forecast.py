"""`opsgraph bench forecast`: day-ahead forecasts of real load traces (docs/forecasting.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from opsgraph.cli.bench import OutOpt, _save
from opsgraph.cli.common import console, fail
from opsgraph.core.errors import OpsgraphError


def bench_forecast(
    data: Annotated[Path, typer.Option(help="The traces folder (README.md there).")] = Path(
        "../shared/data/traces"
    ),
    days: Annotated[int, typer.Option(min=1, help="Test days at the end of each trace.")] = 5,
    trace: Annotated[
        list[str] | None,
        typer.Option(help="Only these traces (repeatable; default all three)."),
    ] = None,
    forecaster: Annotated[
        list[str] | None,
        typer.Option(
            help="Only these forecasters (repeatable; default the baselines and holt_winters)."
        ),
    ] = None,
    out: OutOpt = None,
) -> None:
    """MASE (scaled by the in-sample weekly seasonal naive) and 80 % interval coverage of
    24 h forecasts at 5 minutes, rolling origin over the last days of Azure, Bitbrains and
    NASA traces."""
    from opsgraph.bench.forecast import FORECASTERS, TRACES, run_forecast_bench

    try:
        with console.status("fitting and forecasting every trace"):
            report = run_forecast_bench(
                data,
                traces=tuple(trace or TRACES),
                forecasters=tuple(forecaster or FORECASTERS),
                days=days,
            )
    except OpsgraphError as exc:
        fail(str(exc))
    table = Table(title=f"opsgraph bench forecast: 24 h ahead, last {days} days")
    for col in ("trace", "forecaster", "MASE", "80% coverage", "seconds"):
        table.add_column(col, justify="right")
    for row in report["traces"]:
        for r in row["results"]:
            table.add_row(
                row["trace"],
                r["forecaster"],
                f"{r['mase']:.3f}",
                f"{r['coverage_80']:.3f}",
                f"{r['seconds']:.1f}",
            )
    console.print(table)
    console.print(f"MASE scale: {report['mase_scale']}; wall {report['wall_s']:.1f} s")
    _save(report, out)
