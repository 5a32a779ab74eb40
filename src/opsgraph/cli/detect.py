"""Commands that run detection over recorded data: `opsgraph detect score` and `opsgraph
backtest`. Registered on the main `opsgraph` command line by cli.py."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from opsgraph.cli.common import UrlOpt, call_api, console, existing_store, fail
from opsgraph.core.errors import OpsgraphError

detect_app = typer.Typer(
    help="Score recorded data with opsgraph's detectors.", no_args_is_help=True
)
maintenance_app = typer.Typer(
    help="Mute resources for a time range (a running server's maintenance windows).",
    no_args_is_help=True,
)


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


@detect_app.command("score")
def detect_score(
    test: Annotated[
        Path,
        typer.Option(help="CSV to score: optional timestamp column, then one column per signal."),
    ],
    out: Annotated[Path, typer.Option(help="Where to write anomaly_score per row (same order).")],
    train: Annotated[
        Path | None,
        typer.Option(help="CSV of normal history to learn from first (no labels read)."),
    ] = None,
    members: Annotated[
        str,
        typer.Option(help="Ensemble members as NAME[@WINDOW],... (default: the best NAB set)."),
    ] = "",
    dedup_rows: Annotated[
        int, typer.Option(help="Damp repeats of a recent high within this many rows (0 = off).")
    ] = 0,
    signals: Annotated[
        bool, typer.Option(help="Also write each signal's probability (score_<column>).")
    ] = False,
    multivariate: Annotated[
        str,
        typer.Option(
            help="With --train: the models fitted on it, which then score the rows (pca, iforest, "
            "ocsvm, lof, ecod, autoencoder, vae; comma-separated), or 'none' for the streaming "
            "members warmed on it."
        ),
    ] = "pca",
) -> None:
    """Score every row of a multivariate CSV, causally, after learning from TRAIN if given.

    Label columns (label, is_anomaly, anomaly, attack) are ignored: scoring is unsupervised.
    """
    from opsgraph.ingest.offline import FILE_MEMBERS, score_table
    from opsgraph.sources.files import read_table

    try:
        test_table = read_table(test)
        train_table = read_table(train) if train is not None else None
        with console.status(f"scoring {test_table.values.shape[0]} rows"):
            models = [] if multivariate.strip() == "none" else multivariate.split(",")
            result = score_table(
                test_table,
                train_table,
                members=members or FILE_MEMBERS,
                dedup_rows=dedup_rows,
                multivariate=[m.strip() for m in models],
            )
            scores, per_signal = result.scores, result.per_signal
    except OpsgraphError as exc:
        fail(str(exc))
    for note in result.notes:
        console.print(note)
    if test_table.ignored:
        console.print(f"ignored label column(s): {', '.join(test_table.ignored)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        header = ["anomaly_score"]
        if signals:
            header += [f"score_{c}" for c in test_table.columns]
        writer.writerow(header)
        for i, score in enumerate(scores.tolist()):
            row = [f"{score:.6f}"]
            if signals:
                row += [f"{p:.6f}" for p in per_signal[i].tolist()]
            writer.writerow(row)
    console.print(
        f"scored {len(scores)} rows of {len(test_table.columns)} signals -> {out} "
        f"(max {scores.max(initial=0.0):.4f})"
    )


def backtest(
    detector: Annotated[
        str | None, typer.Option(help="Registered detector (default: the configured one).")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="CSV to replay: wide (timestamp + signals) or long.")
    ] = None,
    from_store: Annotated[
        str | None,
        typer.Option("--from", help="Replay a store instead: a database URL, or 'configured'."),
    ] = None,
    resource: Annotated[
        list[str] | None, typer.Option(help="With --from: only these resources (repeatable).")
    ] = None,
    start: Annotated[float | None, typer.Option(help="With --from: from (epoch seconds).")] = None,
    end: Annotated[float | None, typer.Option(help="With --from: until (epoch seconds).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the alerts and summary as JSON.")] = None,
) -> None:
    """Replay history through a detector configuration and report what it would have alerted,
    before anyone turns it on (nothing is written to any store)."""
    from opsgraph.core.table import table_from_series
    from opsgraph.ingest.offline import backtest as run_backtest
    from opsgraph.sources.files import read_table

    if (data is None) == (from_store is None):
        fail("give exactly one of --data FILE and --from STORE")
    try:
        from opsgraph.runtime.settings import load_settings

        settings = load_settings(config)
        if data is not None:
            table = read_table(data)
        else:
            url = settings.store_url if from_store == "configured" else str(from_store)
            store = existing_store(url)
            try:
                ids = resource or [r.id for r in store.list_resources()]
                series = {}
                for rid in ids:
                    for metric, (ts, vs) in store.read_samples(
                        rid, start=start, end=end, limit=10_000_000
                    ).items():
                        series[(rid, metric)] = (ts, vs)
            finally:
                store.close()
            table = table_from_series(series)
        with console.status(f"replaying {table.values.shape[0]} rows"):
            owner = re.sub(r"[^A-Za-z0-9_.:@-]", "_", data.stem) if data is not None else "file"
            report = run_backtest(table, settings.detect, detector=detector, resource=owner)
    except OpsgraphError as exc:
        fail(str(exc))
    summary = report.summary()
    console.print_json(json.dumps(summary))
    shown = RichTable(title=f"alerts it would have raised (first 20 of {len(report.alerts)})")
    for col in ("resource", "metric", "start", "end", "severity", "peak score"):
        shown.add_column(col)
    for a in report.alerts[:20]:
        shown.add_row(
            a.resource_id,
            a.metric,
            f"{a.start_ts:.0f}",
            f"{a.last_ts:.0f}",
            a.severity.value,
            f"{a.max_score:.3f}",
        )
    console.print(shown)
    if out is not None:
        out.write_text(
            json.dumps(
                {"summary": summary, "alerts": [a.model_dump(mode="json") for a in report.alerts]},
                indent=2,
            )
        )
        console.print(f"written to {out}")


def feedback(
    anomaly_id: Annotated[int, typer.Argument(help="Id of the anomaly (GET /anomalies).")],
    verdict: Annotated[str, typer.Argument(help="false_positive or confirmed.")],
    note: Annotated[str, typer.Option(help="Why (kept with the feedback).")] = "",
    actor: Annotated[str, typer.Option(help="Who gives it.")] = "cli",
    url: UrlOpt = "",
) -> None:
    """Mark an anomaly false positive (its series then needs a higher score to alert) or
    confirmed (the series' threshold goes back to the default)."""
    body = {"verdict": verdict, "note": note, "actor": actor}
    result = call_api("POST", f"{url.rstrip('/')}/anomalies/{anomaly_id}/feedback", body)
    console.print_json(json.dumps(result))


@maintenance_app.command("add")
def maintenance_add(
    resource: Annotated[list[str], typer.Option(help="Resource to mute (repeatable).")],
    duration: Annotated[
        float | None, typer.Option("--for", help="Seconds from now (pipeline time).")
    ] = None,
    start: Annotated[float | None, typer.Option(help="Start, epoch seconds.")] = None,
    end: Annotated[float | None, typer.Option(help="End, epoch seconds.")] = None,
    reason: Annotated[str, typer.Option(help="Why (shown with the window).")] = "",
    url: UrlOpt = "",
) -> None:
    """Mute resources for a time range: give --for SECONDS, or --end (and optionally --start)."""
    body: dict[str, object] = {"resource_ids": resource, "reason": reason, "actor": "cli"}
    for key, value in (("start_ts", start), ("end_ts", end), ("duration_s", duration)):
        if value is not None:
            body[key] = value
    console.print_json(json.dumps(call_api("POST", f"{url.rstrip('/')}/maintenance", body)))


@maintenance_app.command("list")
def maintenance_list(
    active: Annotated[bool, typer.Option(help="Only windows active now.")] = False,
    url: UrlOpt = "",
) -> None:
    """List maintenance windows."""
    suffix = "?active=true" if active else ""
    console.print_json(json.dumps(call_api("GET", f"{url.rstrip('/')}/maintenance{suffix}")))


@detect_app.command("calendar")
def calendar_list(
    active: Annotated[bool, typer.Option(help="Only events in force now.")] = False,
    upcoming: Annotated[bool, typer.Option(help="Only events not over yet.")] = False,
    url: UrlOpt = "",
) -> None:
    """List the business events (sales, promotions, holidays) that detection accounts for."""
    query = []
    if active:
        query.append("active=true")
    if upcoming:
        query.append("upcoming=true")
    suffix = "?" + "&".join(query) if query else ""
    console.print_json(json.dumps(call_api("GET", f"{url.rstrip('/')}/calendar{suffix}")))


@maintenance_app.command("delete")
def maintenance_delete(
    window_id: Annotated[int, typer.Argument(help="Id of the window.")],
    url: UrlOpt = "",
) -> None:
    """Remove a maintenance window."""
    call_api("DELETE", f"{url.rstrip('/')}/maintenance/{window_id}")
    console.print(f"maintenance window {window_id} removed")
