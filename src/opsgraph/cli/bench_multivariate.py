"""`opsgraph bench multivariate`: multivariate detection graded on real ASD servers (--data) or
on simulated resources."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from opsgraph.cli.bench import OutOpt, _save
from opsgraph.cli.common import console, fail
from opsgraph.core.errors import OpsgraphError


def bench_multivariate(
    data: Annotated[
        Path | None,
        typer.Option(
            help="An ASD-layout folder (train/, test/, test_label/): grade on real server "
            "metrics with VUS-PR beside random and PCA-residual floors. Without it: simulated "
            "resources, ROC-AUC and average precision."
        ),
    ] = None,
    server: Annotated[
        list[str] | None, typer.Option(help="Only these servers (repeat), e.g. omi-3.")
    ] = None,
    out: OutOpt = None,
) -> None:
    """Multivariate detection (`detect score --train`): on real ASD servers with --data, or on
    simulated resources trained on two fault-free days and tested on two days with a fault
    every hour."""
    if data is not None:
        from opsgraph.bench.asd import run_asd_bench

        try:
            with console.status("fitting and scoring every server"):
                asd = run_asd_bench(data, servers=server)
        except OpsgraphError as exc:
            fail(str(exc))
        grid = Table(title=f"opsgraph bench multivariate: {asd['servers']} servers of {data}")
        for col in ("approach", "VUS-PR (macro)", "top-3 attribution", "s / server"):
            grid.add_column(col, justify="right")
        for r in asd["results"]:
            top3 = "-" if r["top3_precision"] is None else f"{r['top3_precision']:.3f}"
            grid.add_row(
                r["approach"], f"{r['vus_pr']:.3f}", top3, f"{r['seconds_per_server']:.2f}"
            )
        console.print(grid)
        console.print(f"top-3 attribution of a random pick: {asd['top3_random_pick']:.3f}")
        _save(asd, out)
        return
    from opsgraph.bench.multivariate import run_multivariate_bench

    with console.status("simulating and scoring"):
        report = run_multivariate_bench()
    table = Table(title=f"opsgraph bench multivariate ({report['resources_evaluated']} resources)")
    for col in ("approach", "ROC-AUC", "average precision"):
        table.add_column(col, justify="right")
    for r in report["results"]:
        table.add_row(r["approach"], f"{r['roc_auc']:.3f}", f"{r['average_precision']:.3f}")
    console.print(table)
    _save(report, out)
