"""`opsgraph bench ...`: the benchmarks whose figures are in docs/benchmarks.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from opsgraph.cli.common import console, fail
from opsgraph.core.errors import OpsgraphError

bench_app = typer.Typer(help="Benchmarks (figures go to docs/benchmarks.md).", no_args_is_help=True)

OutOpt = Annotated[Path | None, typer.Option(help="Write the figures as JSON.")]


def _save(report: dict[str, Any], out: Path | None) -> None:
    """Write a bench's figures as JSON when asked."""
    if out is not None:
        out.write_text(json.dumps(report, indent=2))
        console.print(f"written to {out}")


@bench_app.command("ingest")
def bench_ingest(
    resources: Annotated[
        list[int] | None,
        typer.Option("--resources", "-r", help="Estate sizes (repeat; default 1000 and 10000)."),
    ] = None,
    out: OutOpt = None,
    postgres_url: Annotated[
        str,
        typer.Option(help="PostgreSQL to measure ('' to skip)."),
    ] = "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    samples: Annotated[
        int, typer.Option(help="Samples to push through each stage per size.")
    ] = 2_000_000,
) -> None:
    """Samples per second through ingest + detect (memory) and + persist (SQLite, PostgreSQL)."""
    from opsgraph.bench.ingest import print_report, run_ingest_bench

    report = run_ingest_bench(
        sizes=resources or [1000, 10_000],
        postgres_url=postgres_url or None,
        target_samples=samples,
        console=console,
    )
    print_report(report, console)
    _save(report, out)


@bench_app.command("detect")
def bench_detect(
    series: Annotated[int, typer.Option(min=1, help="Series scored together.")] = 10_000,
    steps: Annotated[
        int, typer.Option(min=1, help="Timed steps (each scores every series).")
    ] = 100,
    detector: Annotated[
        list[str] | None, typer.Option(help="Only these detectors (repeatable; default all).")
    ] = None,
    out: OutOpt = None,
) -> None:
    """Samples per second of each registered detector (score + learn), after a warm-up."""
    from opsgraph.bench.detect import run_detect_bench

    try:
        report = run_detect_bench(series=series, steps=steps, names=detector)
    except OpsgraphError as exc:
        fail(str(exc))
    table = Table(title=f"opsgraph bench detect ({series:,} series)")
    for col in ("detector", "samples", "seconds", "samples/s"):
        table.add_column(col, justify="right")
    for row in report["results"]:
        table.add_row(
            row["detector"],
            f"{row['samples']:,}",
            f"{row['seconds']:.2f}",
            f"{row['samples_per_s']:,}",
        )
    console.print(table)
    _save(report, out)


@bench_app.command("sim-detect")
def bench_sim_detect(
    detector: Annotated[
        list[str] | None,
        typer.Option(
            help="Detectors to compare (repeatable; 'all' for every registered one; "
            "default: the configured one)."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="YAML config whose detect and alerts sections run."),
    ] = None,
    incidents: Annotated[
        int, typer.Option(min=8, help="Incidents per topology (cycling every fault kind).")
    ] = 72,
    intensity: Annotated[
        float,
        typer.Option(
            min=0.05,
            max=5.0,
            help="Fault size (1: CPU +60 points, latency +300 ms, errors 35 %, traffic x3; "
            "0.25 is a subtle fault).",
        ),
    ] = 1.0,
    out: OutOpt = None,
) -> None:
    """Node-level precision / recall / F1, time to detect, false alarms per node-day, and pages
    (incidents opened) per fault on simulated incidents over three topologies (50, 120 and 300
    resources), through the live path: the configured detection, then the alert lifecycle."""
    from opsgraph.bench.sim_detect import run_sim_detect_bench
    from opsgraph.detect.registry import available
    from opsgraph.runtime.settings import load_settings

    try:
        loaded = load_settings(config)
        settings = loaded.detect
        names = (sorted(available()) if detector == ["all"] else detector) or [settings.detector]
        with console.status(f"{incidents * 3} incidents x {len(names)} detectors"):
            report = run_sim_detect_bench(
                detectors=names,
                topologies=[(50, 1), (120, 2), (300, 3)],
                incidents=incidents,
                settings=settings,
                alerts=loaded.alerts,
                intensity=intensity,
            )
    except OpsgraphError as exc:
        fail(str(exc))
    table = Table(
        title=f"opsgraph bench sim-detect ({report['results'][0]['incidents']} incidents, "
        f"intensity {intensity:g}, incidents open at {report['open_at']})"
    )
    for col in (
        "detector",
        "detected",
        "node P",
        "node R",
        "node F1",
        "steps to detect",
        "false alarms / node-day",
        "pages / fault",
        "paged ≤ 3 steps",
        "false pages / 100 node-days",
    ):
        table.add_column(col, justify="right")
    for r in report["results"]:
        table.add_row(
            r["detector"],
            f"{r['incidents_detected']}/{r['incidents']}",
            f"{r['node_precision']:.3f}",
            f"{r['node_recall']:.3f}",
            f"{r['node_f1']:.3f}",
            str(r["median_steps_to_detect"]),
            f"{r['false_alarms_per_node_day']:.3f}",
            f"{r['pages_per_fault']:.2f}",
            f"{r['faults_paged_within_3_steps']:.2f}",
            f"{r['false_pages_per_100_node_days']:.2f}",
        )
    console.print(table)
    _save(report, out)


@bench_app.command("nab")
def bench_nab(
    data: Annotated[Path, typer.Option(help="NAB corpus folder (data/, labels/, config/).")] = Path(
        "../shared/data/nab"
    ),
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="YAML config whose detect section runs (default: as serve finds one; "
            "none: the live defaults).",
        ),
    ] = None,
    members: Annotated[
        str,
        typer.Option(
            help="Run the ensemble with these members, NAME[@WINDOW][:key=value],... "
            "(default: the configured detector); the decision settings stay the config's "
            "(by default the live ones, made for the ensemble)."
        ),
    ] = "",
    splits: Annotated[
        int,
        typer.Option(
            min=0,
            max=1000,
            help="Held-out splits: decision settings chosen on a random half of the files, "
            "scored on the other half (0: skip).",
        ),
    ] = 10,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the held-out splits.")] = 0,
    files: Annotated[
        list[str] | None,
        typer.Option("--file", help="Only files whose path contains this (repeatable)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write NAB result files (one CSV per data file) and report.json here."),
    ] = None,
) -> None:
    """Run the live detection path over the Numenta Anomaly Benchmark and score its alerts.

    Every file is a series of the detection path that serve runs (detector, calibration,
    knobs, decision step with its rest period), fed causally; a detection is an anomaly the
    decision step opens. Scores are normalised (null detector 0, perfect 100) for the
    standard, reward_low_FP_rate and reward_low_FN_rate profiles.
    """
    from opsgraph.bench.nab.run import run_nab
    from opsgraph.runtime.settings import load_settings

    try:
        settings = load_settings(config).detect
        if members:
            from opsgraph.detect.members import create_members, parse_members

            create_members(parse_members(members))  # a bad spec fails before the run
            settings = settings.model_copy(
                update={"detector": "ensemble", "params": {"members": members}}
            )
        with console.status("running the live detection path over the corpus"):
            report = run_nab(data, settings, out=out, only=files or (), splits=splits, seed=seed)
    except OpsgraphError as exc:
        fail(str(exc))
    title = f"NAB: {report['detector']} {report['params'] or ''} ({report['files']} files)"
    table = Table(title=title)
    for col in ("profile", "score", "TP", "FP", "FN"):
        table.add_column(col, justify="right")
    for profile, r in report["profiles"].items():
        table.add_row(profile, f"{r['score']:.2f}", str(r["tp"]), str(r["fp"]), str(r["fn"]))
    console.print(table)
    cats = report["profiles"]["standard"]["categories"]
    console.print(
        "standard by category: "
        + ", ".join(f"{k} {v:.1f}" for k, v in cats.items() if v is not None)
    )
    held = report.get("held_out")
    if held:
        console.print(
            f"held out ({held['splits']} splits, {held['settings_tried']} decision settings): "
            f"{held['held_out_mean']:.2f} ± {held['held_out_std']:.2f} on the unseen halves, "
            f"against {held['live_default_on_same_halves_mean']:.2f} for the live default "
            f"on the same halves (gap {held['gap_mean']:.2f})"
        )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(json.dumps(report, indent=2))
        console.print(f"results in {report['results_dir']}, report in {out / 'report.json'}")


@bench_app.command("calendar")
def bench_calendar(
    resources: Annotated[int, typer.Option(min=10, max=2000, help="Simulated resources.")] = 50,
    days: Annotated[float, typer.Option(min=1, max=60, help="Fault-free days simulated.")] = 14,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the estate and its calendar.")] = 7,
    out: OutOpt = None,
) -> None:
    """False alarms during business events, the hour after and elsewhere, with the calendar
    ignored and with it taken into account (a fault-free estate: every alarm is false)."""
    from opsgraph.bench.calendar import ZONES, run_calendar_bench

    with console.status(f"{days:g} days x 2 runs"):
        report = run_calendar_bench(resources=resources, seed=seed, days=days)
    table = Table(title=f"false alarms, {resources} resources, {days:g} days")
    for col in ("calendar", *ZONES, "total"):
        table.add_column(col, justify="right")
    for label, key in (("ignored", "without_calendar"), ("a feature", "with_calendar")):
        alarms = report[key]["alarms"]
        table.add_row(label, *(str(alarms[z]) for z in ZONES), str(sum(alarms.values())))
    console.print(table)
    steps = report["with_calendar"]
    console.print(f"{steps['event_steps']} of {steps['steps']} steps fell inside an event")
    _save(report, out)


@bench_app.command("rca")
def bench_rca(
    data: Annotated[
        list[Path] | None,
        typer.Option(
            metavar="DIR",
            help="Real cases instead of simulated incidents (repeat for several sets). The "
            "layout is recognised by its files: Sock Shop (<case>/<run>/anomalous.csv), Nezha "
            "(rca_data/<day>/...) or PetShop (<scenario>/graph.csv or train/). PetShop is also "
            "ranked with the violated-SLO hint (groups '+slo').",
        ),
    ] = None,
    incidents: Annotated[
        int, typer.Option(min=8, help="Simulated incidents per topology (20, 200, 2,000 nodes).")
    ] = 104,
    onset: Annotated[
        str,
        typer.Option(
            metavar="both|estimated|true",
            help="Real cases: 'both' ranks them with the onset estimated from the metrics (the "
            "headline; BARO uses its own change-point onset) and with the true onset (groups "
            "'@true'); 'estimated' or 'true' does one. Simulated incidents use the true onset.",
        ),
    ] = "both",
    by_kind: Annotated[
        bool, typer.Option(help="Also print top-1 / top-3 / avg@5 per fault kind.")
    ] = True,
    out: OutOpt = None,
) -> None:
    """Root-cause Top-1 / Top-3 / Avg@5 (overall and per fault kind) and cascade precision /
    recall, against BARO, the random, most-anomalous-node and N-sigma baselines."""
    from opsgraph.bench.rca import run_rca_bench
    from opsgraph.bench.rca_report import print_rca_report

    onsets = {"both": ("estimated", "true"), "estimated": ("estimated",), "true": ("true",)}
    if onset not in onsets:
        fail(f"--onset must be both, estimated or true, not {onset!r}")
    try:
        with console.status("ranking root causes"):
            if data:
                report = run_rca_bench(data=list(data), onsets=onsets[onset])
            else:
                report = run_rca_bench(
                    topologies=[(20, 1, incidents), (200, 2, incidents), (2000, 3, incidents)]
                )
    except OpsgraphError as exc:
        fail(str(exc))

    print_rca_report(report, console, by_kind=by_kind)
    console.print(f"{report['seconds']} s")
    _save(report, out)


@bench_app.command("infer")
def bench_infer(
    resources: Annotated[int, typer.Option(min=10, max=2000, help="Simulated resources.")] = 50,
    steps: Annotated[int, typer.Option(min=50, help="Fault-free steps of metrics.")] = 720,
    out: OutOpt = None,
) -> None:
    """Precision and recall of dependencies inferred from metrics against the true topology."""
    from opsgraph.bench.infer import run_infer_bench

    report = run_infer_bench(resources=resources, steps=steps)
    table = Table(
        title=f"inferred edges, {resources} resources, {report['true_edges']} true edges "
        f"(chance precision {report['chance_precision']:.3f})"
    )
    for col in ("links per node", "edges", "precision", "recall"):
        table.add_column(col, justify="right")
    for r in report["results"]:
        table.add_row(
            str(r["per_node"]), str(r["edges"]), f"{r['precision']:.3f}", f"{r['recall']:.3f}"
        )
    console.print(table)
    _save(report, out)


@bench_app.command("gnn")
def bench_gnn(
    incidents: Annotated[
        int, typer.Option(min=4, max=1000, help="Simulated incidents per topology.")
    ] = 48,
    epochs: Annotated[int, typer.Option(min=1, max=5000, help="Training epochs.")] = 200,
    timing_nodes: Annotated[
        int, typer.Option(min=100, max=50_000, help="Nodes of the graph timed for inference.")
    ] = 10_000,
    out: OutOpt = None,
) -> None:
    """Graph detectors on held-out topologies and unseen fault kinds, against the same
    features without the graph (MLP, Isolation Forest, largest |z|), and inference time."""
    from opsgraph.bench.gnn import run_gnn_bench
    from opsgraph.cli.train import metrics_table

    with console.status("training and evaluating five detectors…"):
        report = run_gnn_bench(incidents=incidents, epochs=epochs, timing_nodes=timing_nodes)
    console.print(
        metrics_table(
            f"held-out topologies {report['plan']['held_out_topologies']}; unseen faults "
            f"{', '.join(report['plan']['unseen_fault_kinds'])}",
            report["results"],
        )
    )
    inf = report["inference"]
    console.print(
        f"inference on {inf['nodes']:,} nodes / {inf['edges']:,} edges: {inf['median_ms']} ms "
        f"(features + forward; forward alone {inf['forward_ms']} ms, {inf['threads']} threads)"
    )
    ex = report["explain"]
    console.print(
        f"explain on {ex['nodes']} nodes, {ex['requests']} requests {ex['concurrent']} at a time: "
        f"p50 {ex['p50_s']} s, p95 {ex['p95_s']} s, errors {ex['errors']}; top signal right "
        f"in {ex['top_signal_correct']:.0%} (GNNExplainer {ex['explain_epochs']} epochs, SHAP "
        f"{ex['shap_samples']} samples)"
    )
    console.print(f"fit seconds: {report['fit_seconds']}; total {report['seconds']} s")
    _save(report, out)


@bench_app.command("api")
def bench_api(
    resources: Annotated[int, typer.Option(min=1, help="Resources registered.")] = 1000,
    signals: Annotated[int, typer.Option(min=1, max=8, help="Signals per resource.")] = 5,
    batch: Annotated[int, typer.Option(min=1, help="Samples per request.")] = 5000,
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight.")] = 4,
    rate: Annotated[
        float, typer.Option(min=0, help="Target samples/s (0 = as fast as answered).")
    ] = 50_000,
    duration: Annotated[float, typer.Option(min=0.1, help="Seconds of JSON ingest.")] = 20,
    warmup: Annotated[
        float, typer.Option(min=0, help="Untimed seconds of ingest first (fills windows).")
    ] = 5,
    remote_write_duration: Annotated[
        float, typer.Option(min=0, help="Seconds of Prometheus remote write (0 = skip).")
    ] = 20,
    ws_clients: Annotated[int, typer.Option(min=1, help="WebSocket clients.")] = 500,
    ws_events: Annotated[int, typer.Option(min=1, help="Anomalies timed on the way.")] = 20,
    ws_background_rate: Annotated[
        float | None,
        typer.Option(min=0, help="Samples/s pushed meanwhile (default --rate; 0 = none)."),
    ] = None,
    deep_points: Annotated[
        int,
        typer.Option(
            min=0,
            help="Points of one series in one request beside the load, with GET /health timed "
            "meanwhile (0 = skip).",
        ),
    ] = 95_000,
    store_url: Annotated[
        str | None, typer.Option(help="PostgreSQL URL (a fresh schema); default SQLite.")
    ] = None,
    out: OutOpt = None,
) -> None:
    """A real server (no simulator) measured over HTTP: sustained JSON ingest and remote write
    (samples/s, request latency), WebSocket fan-out delay, one series' long history in one
    request beside the load (does it hold the event loop?), and nothing lost in the store."""
    from opsgraph.bench.api import ApiBenchConfig, print_report, run_api_bench

    cfg = ApiBenchConfig(
        resources=resources,
        signals=signals,
        batch=batch,
        concurrency=concurrency,
        rate=rate,
        duration_s=duration,
        warmup_s=warmup,
        remote_write_s=remote_write_duration,
        ws_clients=ws_clients,
        ws_events=ws_events,
        ws_background_rate=ws_background_rate,
        deep_points=deep_points,
        store_url=store_url,
    )
    try:
        report = run_api_bench(cfg, console)
    except OpsgraphError as exc:
        fail(str(exc))
    print_report(report, console)
    _save(report, out)


@bench_app.command("ui")
def bench_ui(
    resources: Annotated[
        int, typer.Option(min=10, max=10_000, help="Resources in the demo.")
    ] = 2000,
    loads: Annotated[int, typer.Option(min=1, max=20, help="Page loads measured.")] = 3,
    anomalies: Annotated[
        int,
        typer.Option(
            min=0, max=1_000_000, help="Anomalies in the alerts-page store (0: no such figure)."
        ),
    ] = 100_000,
    dashboard: Annotated[
        bool, typer.Option(help="Time the dashboard in chromium (--no-dashboard: alerts only).")
    ] = True,
    out: OutOpt = None,
) -> None:
    """Time to the first full draw of the dashboard's graph, and the cost of one redraw, for a
    demo of N resources in Debian's chromium (needs the test extras: Playwright); and the
    server's time to answer one Alerts page (GET /anomalies?limit=50, first and deep page by
    cursor, p50/p95) over a SQLite store of --anomalies anomalies."""
    from opsgraph.bench.alerts_page import describe, run_alerts_page_bench
    from opsgraph.bench.ui import run_ui_bench

    if not dashboard and not anomalies:
        fail("nothing to measure: give --anomalies or leave --dashboard on")
    report: dict[str, Any] = {"benchmark": "ui"}
    try:
        if dashboard:
            with console.status(f"starting a demo of {resources} resources and chromium"):
                report = run_ui_bench(resources=resources, loads=loads)
            first, redraw = report["first_draw_ms"]["median"], report["redraw_ms"]["median"]
            console.print(
                f"{report['nodes']} nodes: first full draw {first:.0f} ms (target ≤ 1000), "
                f"one redraw {redraw:.1f} ms (a frame at 60 Hz is "
                f"{report['targets']['redraw_ms']:.1f})"
            )
        if anomalies:
            with console.status(f"filling a store with {anomalies:,} anomalies"):
                report["alerts_page"] = run_alerts_page_bench(anomalies=anomalies)
            console.print(describe(report["alerts_page"]))
    except OpsgraphError as exc:
        fail(str(exc))
    _save(report, out)


@bench_app.command("logs")
def bench_logs(
    data: Annotated[
        Path, typer.Option(help="Folder holding loghub2k/ and hdfs/ (see their READMEs).")
    ] = Path("../shared/data/logs"),
    system: Annotated[
        list[str] | None,
        typer.Option("--system", help="Only these loghub systems (repeatable; default all 16)."),
    ] = None,
    lines: Annotated[
        int | None, typer.Option(min=10, help="Only the first lines of each system.")
    ] = None,
    sessions: Annotated[
        int | None, typer.Option(min=10, help="Only the first HDFS sessions of each split.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="YAML config (its logs section).")
    ] = None,
    out: OutOpt = None,
) -> None:
    """Template grouping accuracy on loghub's 16 systems, line-level alert detection on BGL and
    session-level anomaly detection on labelled HDFS block sessions."""
    from opsgraph.bench.logs import print_report, run_logs_bench
    from opsgraph.runtime.settings import load_settings

    try:
        settings = load_settings(config).logs
        with console.status("mining templates and scoring lines"):
            report = run_logs_bench(data, settings, systems=system, lines=lines, sessions=sessions)
    except OpsgraphError as exc:
        fail(str(exc))
    print_report(report, console)
    _save(report, out)
