"""`opsgraph bench remediation`: MTTR with and without automated remediation on simulated
incidents, the share auto-resolved, actions outside policy bounds, and duplicate executions
when the process is killed at random points and restarted."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from opsgraph.cli.bench import OutOpt, _save
from opsgraph.cli.common import console, fail
from opsgraph.core.errors import OpsgraphError


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f}"


def _share(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def bench_remediation(
    incidents: Annotated[
        int, typer.Option(min=9, help="Incidents per topology (cycling every fault kind).")
    ] = 64,
    seeds: Annotated[
        list[int] | None, typer.Option("--seed", help="Topology seeds (repeat; default 1 and 2).")
    ] = None,
    resources: Annotated[int, typer.Option(min=20, help="Resources per topology.")] = 60,
    episode_steps: Annotated[
        int, typer.Option(min=20, help="One-minute steps per incident (fault, then quiet).")
    ] = 40,
    kills: Annotated[
        int, typer.Option(min=0, help="Random SIGKILLs of the crash test (0: skip it).")
    ] = 25,
    out: OutOpt = None,
) -> None:
    """Run the fault schedule without and with the shipped auto policies; then kill a
    remediating process at random points and count duplicate executions."""
    from opsgraph.bench.remediation import run_remediation_bench
    from opsgraph.bench.remediation_crash import run_crash_test

    chosen = tuple(seeds or (1, 2))
    try:
        with console.status(f"{incidents * len(chosen)} incidents, without and with remediation"):
            report = run_remediation_bench(
                resources=resources,
                seeds=chosen,
                incidents=incidents,
                episode_steps=episode_steps,
            )
        if kills:
            with console.status(f"crash test: {kills} random kills"):
                report["crash"] = run_crash_test(kills=kills)
    except OpsgraphError as exc:
        fail(str(exc))
    s: dict[str, Any] = report["summary"]
    table = Table(title=f"opsgraph bench remediation ({s['incidents']} incidents)")
    for col in ("fault", "n", "remediable", "MTTR without (min)", "MTTR with", "cut", "auto"):
        table.add_column(col, justify="right")
    for kind, k in s["by_kind"].items():
        table.add_row(
            kind,
            str(k["incidents"]),
            str(k["remediable"]),
            _minutes(k["mttr_without_s"]),
            _minutes(k["mttr_with_s"]),
            _share(k["mttr_cut"]),
            f"{k['auto_resolved']}/{k['remediable']}",
        )
    table.add_row(
        "all",
        str(s["incidents"]),
        str(s["remediable"]),
        _minutes(s["mttr_without_s"]),
        _minutes(s["mttr_with_s"]),
        _share(s["mttr_cut"]),
        f"{s['auto_resolved']}/{s['remediable']}",
    )
    console.print(table)
    console.print(
        f"remediable faults: MTTR {_minutes(s['mttr_remediable_without_s'])} -> "
        f"{_minutes(s['mttr_remediable_with_s'])} min ({_share(s['mttr_remediable_cut'])} less); "
        f"auto-resolved {_share(s['auto_resolved_share'])}"
    )
    console.print(
        f"actions executed: {s['actions_executed']}; outside a policy bound: {s['out_of_bounds']}; "
        f"unsafe (no injected fault there, or cannot cure it): {s['unsafe_actions']}"
    )
    for why in s["unsafe_detail"][:10]:
        console.print(f"  unsafe: {why}", highlight=False)
    live = s["live_root"]
    console.print(
        f"live root ranking (run without remediation): {live['ranked']} of "
        f"{live['faults_with_incident']} incidents ranked, top-1 {_share(live['top1'])} "
        f"(first anomaly to start: {_share(live['first_to_start_top1'])}); "
        f"{live['confident']} at confidence >= 0.5, top-1 {_share(live['confident_top1'])}"
    )
    crash = report.get("crash")
    if crash:
        console.print(
            f"crash test: {crash['kills']} kills, {crash['executions']} executions of "
            f"{crash['actions_executed']} actions, duplicate executions: "
            f"{crash['duplicate_executions']}; killed mid-execution: "
            f"{crash['killed_mid_execution']}, before executing: {crash['killed_before_execution']}"
        )
    _save(report, out)
