"""`opsgraph bench autoscale`: load traces replayed on a simulated group (docs/forecasting.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from opsgraph.cli.bench import OutOpt, _save
from opsgraph.cli.common import console, fail
from opsgraph.core.errors import OpsgraphError


def bench_autoscale(
    data: Annotated[Path, typer.Option(help="The traces folder (README.md there).")] = Path(
        "../shared/data/traces"
    ),
    trace: Annotated[
        list[str] | None,
        typer.Option(help="Only these traces (repeatable; default all three)."),
    ] = None,
    boot_s: Annotated[
        float, typer.Option(min=0, max=86_400, help="Seconds from launch until an instance serves.")
    ] = 600.0,
    forecaster: Annotated[
        str, typer.Option(help="The predictive policy's forecaster (wrapped in conformal).")
    ] = "seasonal_profile",
    out: OutOpt = None,
) -> None:
    """SLO-violation minutes, instance-hours and actions of predictive + reactive scaling
    against reactive target tracking (HPA's rule) and static peak provisioning, with each
    trace's demand replayed on a group whose instances take minutes to boot."""
    from opsgraph.bench.autoscale import run_autoscale_bench
    from opsgraph.bench.forecast import TRACES

    try:
        with console.status("replaying every trace under every policy"):
            report = run_autoscale_bench(
                data, traces=tuple(trace or TRACES), boot_s=boot_s, forecaster=forecaster
            )
    except OpsgraphError as exc:
        fail(str(exc))
    table = Table(title=f"opsgraph bench autoscale: boot {boot_s:g} s, forecaster {forecaster}")
    for col in ("trace", "policy", "violation min", "instance-hours", "actions"):
        table.add_column(col, justify="right")
    for row in report["traces"]:
        for r in row["results"]:
            table.add_row(
                row["trace"],
                r["policy"],
                f"{r['violation_minutes']:,.0f}",
                f"{r['instance_hours']:,.0f}",
                f"{r['actions']:,}",
            )
    console.print(table)
    console.print(f"{report['protocol']}; wall {report['wall_s']:.1f} s")
    _save(report, out)
