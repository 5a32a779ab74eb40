"""`opsgraph rca run`: root causes of a fault from recorded metrics, without a server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from opsgraph.cli.common import console, fail
from opsgraph.core.errors import InvalidInputError, OpsgraphError

rca_app = typer.Typer(help="Root-cause analysis on recorded data.", no_args_is_help=True)


@rca_app.command("run")
def rca_run(
    metrics: Annotated[
        Path, typer.Option(help="Wide CSV: a time column, then one column per <node>_<metric>.")
    ],
    graph: Annotated[
        Path | None,
        typer.Option(help="Edge list source,target[,kind] (caller -> callee; kind calls|member)."),
    ] = None,
    fault_start: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Row (0-based, after the header) where the fault starts. Without it or "
            "--fault-time, the start is estimated from the metrics.",
        ),
    ] = None,
    fault_time: Annotated[
        float | None, typer.Option(help="Time (as in the time column) where the fault starts.")
    ] = None,
    top: Annotated[int, typer.Option(min=1, max=100, help="Candidates to show.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Rank the likely root causes of a fault, with the cascade path and the evidence.

    The rows before the fault start are each metric's normal; the rows from
    it on are judged. Give the start with --fault-start or --fault-time, or
    leave both out: the start is then estimated as the row where the metrics
    changed together most clearly, and the row chosen is printed (JSON:
    "fault_start"); docs/benchmarks.md ("Root cause") says how often that is
    right. One normal row is enough: with fewer than five, each metric's
    spread is floored at 10 % of its level instead of being learnt.
    """
    from opsgraph.explain import rank_root_causes, score_metrics
    from opsgraph.explain.onset import estimate_onset
    from opsgraph.explain.summary import describe, result_json, summary
    from opsgraph.sources.case_files import read_edges, read_metrics

    estimated = fault_start is None and fault_time is None
    try:
        if fault_start is not None and fault_time is not None:
            raise InvalidInputError(
                "fault",
                "give exactly one of --fault-start and --fault-time, or neither to estimate it",
            )
        table = read_metrics(metrics)
        if fault_time is not None:
            row = table.row_at(fault_time)
        elif fault_start is not None:
            row = int(fault_start)
        else:
            row = estimate_onset(table.values)
        if not 0 < row < table.values.shape[0]:
            raise InvalidInputError(
                "fault",
                f"the start must leave rows before and after it (row {row} of "
                f"{table.values.shape[0]})",
            )
        edges = read_edges(graph, set(table.nodes)) if graph is not None else None
        evidence = score_metrics(table.nodes, table.metrics, table.values, row, short_history=True)
        if not evidence:
            raise InvalidInputError("metrics", "no column has a value before and after the start")
        result = rank_root_causes(
            evidence,
            nodes=sorted(set(table.nodes)),
            edges=edges.calls if edges else None,
            members=edges.members if edges else (),
            fault_row=row,
        )
    except OpsgraphError as exc:
        fail(str(exc))
    when = float(table.times[row])
    if as_json:
        body = result_json(result, table.times, top)
        body["fault_start"] = {"row": row, "time": when, "estimated": estimated}
        console.print_json(json.dumps(body))
        return
    how = "estimated from the metrics" if estimated else "given"
    console.print(f"fault start: row {row} (time {when:.10g}), {how}")
    out = Table(title=f"root causes ({result.method})")
    for col in ("rank", "node", "confidence", "score", "strongest evidence"):
        out.add_column(col, justify="left" if col in ("node", "strongest evidence") else "right")
    for i, r in enumerate(result.ranking[:top], start=1):
        lead = describe(r.evidence[0], table.times) if r.evidence else "-"
        out.add_row(str(i), r.node, f"{r.confidence:.2f}", f"{r.score:.3f}", lead)
    console.print(out)
    console.print("cascade path: " + " -> ".join(result.cascade_path), soft_wrap=True)
    for h in result.hypotheses:
        console.print(f"[bold]{h.node}[/bold] ({h.confidence:.2f})")
        for e in h.evidence:
            console.print(f"  - {describe(e, table.times)}", soft_wrap=True)
    console.print(summary(result, table.times), soft_wrap=True)
