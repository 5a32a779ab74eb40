"""`opsgraph logs score`: the template and anomaly score of every line of a log file, offline.

Lines are scored in order, each against the lines before it (after an optional training file).
"""

from __future__ import annotations

import csv
import heapq
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.table import Table

from opsgraph.cli.common import console, fail
from opsgraph.core.errors import OpsgraphError

logs_app = typer.Typer(help="Score log files: templates and rarity.", no_args_is_help=True)

COLUMNS = (
    "line",
    "level",
    "template_id",
    "template",
    "score",
    "severity",
    "is_anomaly",
    "new_template",
)


@contextmanager
def _lines(path: Path, option: str) -> Iterator[Iterator[str]]:
    if not path.is_file():
        fail(f"{option}: {path} is not a readable file")
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        yield (line.rstrip("\r\n") for line in f)


@contextmanager
def _writer(out: Path | None) -> Iterator[TextIO | None]:
    if out is None:
        yield None
        return
    try:
        f = out.open("w", newline="", encoding="utf-8")
    except OSError as exc:
        fail(f"--out: cannot write {out}: {exc.strerror}")
    with f:
        yield f


@logs_app.command("score")
def score(
    file: Annotated[Path, typer.Argument(help="Log file, one line per line.")],
    out: Annotated[Path | None, typer.Option(help="Write every line's scores as CSV.")] = None,
    train: Annotated[
        Path | None, typer.Option(help="Normal log learned before FILE (not scored).")
    ] = None,
    top: Annotated[int, typer.Option(min=0, help="Most anomalous lines to show.")] = 10,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="YAML config (its logs section).")
    ] = None,
) -> None:
    """Template (drain3, numbers, ids and addresses masked) and anomaly score in [0, 1] of
    every line: how rare its template is among the lines before it, more for error lines."""
    from opsgraph.logs.pipeline import score_lines
    from opsgraph.runtime.settings import load_settings

    try:
        settings = load_settings(config).logs
    except OpsgraphError as exc:
        fail(str(exc))
    n = anomalous = 0
    templates: set[int | None] = set()
    worst: list[tuple[float, int, str, str]] = []
    with (
        _lines(file, "FILE") as lines,
        _lines(train, "--train") if train is not None else _empty() as learned,
        _writer(out) as sink,
        console.status(f"scoring {file}"),
    ):
        writer = csv.writer(sink) if sink is not None else None
        if writer is not None:
            writer.writerow(COLUMNS)
        for i, line in enumerate(score_lines(lines, settings, train=learned), start=1):
            n += 1
            flagged = line.score >= settings.anomaly_threshold
            anomalous += flagged
            templates.add(line.template_id)
            if writer is not None:
                writer.writerow(
                    (
                        i,
                        line.level,
                        line.template_id,
                        line.template,
                        f"{line.score:.4f}",
                        line.severity.value,
                        int(flagged),
                        int(line.new_template),
                    )
                )
            if top:
                item = (line.score, -i, line.level, line.message[:160])
                if len(worst) < top:
                    heapq.heappush(worst, item)
                else:
                    heapq.heappushpop(worst, item)
    console.print(
        f"{n:,} lines, {len(templates):,} templates, {anomalous:,} anomalous "
        f"(score >= {settings.anomaly_threshold})"
    )
    if worst:
        table = Table(title=f"most anomalous lines of {file.name}")
        for col in ("line", "score", "level", "message"):
            table.add_column(col, justify="right" if col in ("line", "score") else "left")
        for s, neg_i, level, message in sorted(worst, reverse=True):
            table.add_row(str(-neg_i), f"{s:.3f}", level, message)
        console.print(table)
    if out is not None:
        console.print(f"written to {out}")


@contextmanager
def _empty() -> Iterator[Iterator[str]]:
    yield iter(())
