"""The printed tables of `opsgraph bench rca`: per group, the rankers' figures, then top-1 /
top-3 / avg@5 per fault kind and how far the onsets fell from the truth."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def print_rca_report(report: dict[str, Any], console: Console, *, by_kind: bool = True) -> None:
    """Every group of a `run_rca_bench` report as tables."""

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    for group, results in report["groups"].items():
        meta = report.get("sets", {}).get(group, {})
        notes = [f"{results['opsgraph']['cases']} cases", f"{meta.get('onset', 'true')} onset"]
        if meta.get("slo_hint"):
            notes.append("SLO hint")
        table = Table(title=f"root cause: {group} ({', '.join(notes)})")
        for col in ("ranker", "top-1", "top-3", "avg@5", "path P", "path R", "conf", "max s"):
            table.add_column(col, justify="right")
        for name, r in results.items():
            table.add_row(
                name,
                fmt(r["top1"]),
                fmt(r["top3"]),
                fmt(r["avg5"]),
                fmt(r["cascade_precision"]),
                fmt(r["cascade_recall"]),
                fmt(r["mean_top1_confidence"]),
                fmt(r["max_seconds"]),
            )
        console.print(table)
        if by_kind:
            kinds = list(results["opsgraph"]["by_kind"])
            per = Table(title=f"{group}: top-1 / top-3 / avg@5 per fault kind")
            per.add_column("ranker", justify="right")
            for kind in kinds:
                n = results["opsgraph"]["by_kind"][kind]["cases"]
                per.add_column(f"{kind} ({n})", justify="right")
            for name, r in results.items():
                cells = [
                    "/".join(f"{r['by_kind'][k][m]:.2f}" for m in ("top1", "top3", "avg5"))
                    for k in kinds
                ]
                per.add_row(name, *cells)
            console.print(per)
        for ranker, err in meta.get("onset_error", {}).items():
            console.print(
                f"onset of {ranker}: exact {fmt(err['exact'])}, within a row "
                f"{fmt(err['within_1'])}, late {fmt(err['late'])}, median error "
                f"{err['median_abs_rows']:g} rows"
            )
