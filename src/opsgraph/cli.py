"""The `opsgraph` command line: demo, serve, config, db, sim and bench.

Errors a user can cause exit with code 2 and a message naming the problem.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.progress import Progress
from rich.table import Table

from opsgraph import __version__
from opsgraph.cli_common import DEFAULT_URL, call_api, console, fail
from opsgraph.cli_detect import backtest, detect_app, feedback, maintenance_app
from opsgraph.config import Settings, load_settings, settings_as_yaml
from opsgraph.core.errors import OpsgraphError

app = typer.Typer(
    help="opsgraph: watch a cloud estate as a graph, detect and explain anomalies, act safely.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Show the effective configuration.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)
sim_app = typer.Typer(
    help="Drive the simulated cloud of a running demo or server.", no_args_is_help=True
)
bench_app = typer.Typer(help="Benchmarks (figures go to docs/benchmarks.md).", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(sim_app, name="sim")
app.add_typer(bench_app, name="bench")
app.add_typer(detect_app, name="detect")
app.command("backtest")(backtest)
app.command("feedback")(feedback)
app.add_typer(maintenance_app, name="maintenance")


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="YAML config file (default: $OPSGRAPH_CONFIG or ./opsgraph.yaml)."
    ),
]
UrlOpt = Annotated[str, typer.Option("--url", help="Base URL of the running opsgraph API.")]


def _settings(config: Path | None, **overrides: Any) -> Settings:
    try:
        settings = load_settings(config)
        if overrides:
            data = settings.model_dump()
            for dotted, value in overrides.items():
                if value is None:
                    continue
                section, key = dotted.split(".")
                data[section][key] = value
            settings = Settings.model_validate(data)
        return settings
    except OpsgraphError as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(str(exc))


@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"opsgraph {__version__}")


@config_app.command("show")
def config_show(config: ConfigOpt = None) -> None:
    """Print the effective configuration (defaults, file and OPSGRAPH_* variables merged)."""
    console.print(settings_as_yaml(_settings(config)), end="", markup=False, highlight=False)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOpt = None) -> None:
    """Apply the Alembic migrations to the configured database."""
    from opsgraph.store import Store

    settings = _settings(config)
    try:
        store = Store(settings.store_url)
        store.migrate()
        store.close()
    except OpsgraphError as exc:
        fail(str(exc))
    console.print(f"database at {settings.store_url} is up to date")


class _Server(uvicorn.Server):
    """uvicorn's server without its signal capture, which re-raises Ctrl-C after shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror} (choose another with --port)")


def _run_server(settings: Settings, *, demo: bool) -> None:

    from opsgraph.api import create_app
    from opsgraph.runtime import Runtime

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    api = settings.api
    _check_port_free(api.host, api.port)
    try:
        runtime = Runtime(settings, demo=demo)
        if settings.sim.enabled:
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("simulating history", total=settings.sim.preroll_steps)
                runtime.start_sim(lambda done, total: progress.update(task, completed=done))
    except OpsgraphError as exc:
        fail(str(exc))
    app_ = create_app(runtime)
    url = f"http://{api.host}:{api.port}"
    server = _Server(
        uvicorn.Config(app_, host=api.host, port=api.port, log_level="warning", lifespan="on")
    )
    console.print(
        f"[bold green]opsgraph {__version__}[/] serving {len(runtime.resources)} resources "
        f"({runtime.store.dialect})"
    )
    # Plain lines, never wrapped: people and scripts copy the address from here.
    print(f"dashboard and API: {url}  (API docs: {url}/docs)")
    print("Press Ctrl-C to stop.")
    sys.stdout.flush()
    # Ctrl-C and SIGTERM both shut down gracefully and exit 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, server.handle_exit)
    try:
        server.run()
    finally:
        runtime.close()
    print("stopped")


@app.command()
def demo(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default 8000).")] = None,
    resources: Annotated[
        int | None, typer.Option(help="Resources in the simulated estate (10-10000, default 50).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the simulated estate.")] = None,
    speed: Annotated[
        float | None, typer.Option(help="Simulated seconds per real second (default 60).")
    ] = None,
    fault_every: Annotated[
        float | None, typer.Option(help="Real seconds between injected faults; 0 = none.")
    ] = None,
) -> None:
    """Run a simulated estate with injected faults through detection, API and dashboard.

    Needs no server: it keeps its data in a fresh SQLite file (demo.db in the data directory).
    """
    settings = _settings(
        config,
        **{
            "api.host": host,
            "api.port": port,
            "sim.resources": resources,
            "sim.seed": seed,
            "sim.speed": speed,
            "demo.fault_every_s": fault_every,
            "sim.enabled": True,
        },
    )
    _run_server(settings, demo=True)


@app.command()
def serve(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
) -> None:
    """Run the pipeline from the configured sources, with the API and dashboard.

    Data persists in the configured store; samples can also be pushed to POST /ingest/samples.
    """
    _run_server(_settings(config, **{"api.host": host, "api.port": port}), demo=False)


@sim_app.command("inject")
def sim_inject(
    kind: Annotated[
        str,
        typer.Argument(
            help="cpu_hog, memory_leak, latency_injection, error_burst, traffic_spike, "
            "dependency_outage, disk_full or misconfiguration."
        ),
    ],
    node: Annotated[str, typer.Option("--node", "-n", help="Resource id of the fault's root.")],
    duration: Annotated[
        float | None, typer.Option(help="Simulated seconds the fault lasts.")
    ] = None,
    url: UrlOpt = DEFAULT_URL,
) -> None:
    """Inject a fault into the simulated cloud of a running demo (POST /sim/faults)."""
    body: dict[str, Any] = {"kind": kind, "node": node}
    if duration is not None:
        body["duration_s"] = duration
    record = call_api("POST", f"{url.rstrip('/')}/sim/faults", body)
    console.print_json(json.dumps(record))


@sim_app.command("act")
def sim_act(
    action: Annotated[
        str, typer.Argument(help="scale_out, scale_in, restart, failover or rollback.")
    ],
    node: Annotated[str, typer.Option("--node", "-n", help="Resource id to act on.")],
    count: Annotated[int | None, typer.Option(help="Instances to add or remove.")] = None,
    url: UrlOpt = DEFAULT_URL,
) -> None:
    """Apply an action to the simulated cloud of a running demo (POST /sim/actions)."""
    params = {"count": count} if count is not None else {}
    outcome = call_api(
        "POST", f"{url.rstrip('/')}/sim/actions", {"action": action, "node": node, "params": params}
    )
    console.print_json(json.dumps(outcome))


@sim_app.command("topology")
def sim_topology(
    resources: Annotated[int, typer.Option(help="Resources (10-10000).")] = 50,
    seed: Annotated[int, typer.Option(help="Seed.")] = 7,
    out: Annotated[Path | None, typer.Option(help="Write resources and edges as JSON.")] = None,
) -> None:
    """Generate a simulated topology and summarise it (or write it as JSON)."""
    from collections import Counter

    from opsgraph.sim import generate_topology

    try:
        nodes, edges = generate_topology(resources, seed)
    except OpsgraphError as exc:
        fail(str(exc))
    kinds = Counter(r.kind.value for r in nodes)
    console.print(f"{len(nodes)} resources, {len(edges)} dependencies")
    for kind, n in sorted(kinds.items()):
        console.print(f"  {kind:12} {n}")
    if out is not None:
        data = {
            "resources": [r.model_dump(mode="json") for r in nodes],
            "dependencies": [d.model_dump(mode="json") for d in edges],
        }
        out.write_text(json.dumps(data, indent=1))
        console.print(f"written to {out}")


@bench_app.command("ingest")
def bench_ingest(
    resources: Annotated[
        list[int] | None,
        typer.Option("--resources", "-r", help="Estate sizes (repeat; default 1000 and 10000)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the figures as JSON.")] = None,
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
    if out is not None:
        out.write_text(json.dumps(report, indent=2))
        console.print(f"written to {out}")


@bench_app.command("detect")
def bench_detect(
    series: Annotated[int, typer.Option(min=1, help="Series scored together.")] = 10_000,
    steps: Annotated[
        int, typer.Option(min=1, help="Timed steps (each scores every series).")
    ] = 100,
    detector: Annotated[
        list[str] | None, typer.Option(help="Only these detectors (repeatable; default all).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the figures as JSON.")] = None,
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
    if out is not None:
        out.write_text(json.dumps(report, indent=2))
        console.print(f"written to {out}")


@bench_app.command("sim-detect")
def bench_sim_detect(
    detector: Annotated[
        list[str] | None, typer.Option(help="Detectors to compare (repeatable; default all).")
    ] = None,
    incidents: Annotated[
        int, typer.Option(min=8, help="Incidents per topology (cycling every fault kind).")
    ] = 72,
    out: Annotated[Path | None, typer.Option(help="Write the figures as JSON.")] = None,
) -> None:
    """Node-level precision / recall / F1, time to detect and false alarms per node-day on
    simulated incidents over three topologies (50, 120 and 300 resources)."""
    from opsgraph.bench.sim_detect import run_sim_detect_bench
    from opsgraph.detect.registry import available

    names = detector or sorted(available())
    try:
        with console.status(f"{incidents * 3} incidents x {len(names)} detectors"):
            report = run_sim_detect_bench(
                detectors=names, topologies=[(50, 1), (120, 2), (300, 3)], incidents=incidents
            )
    except OpsgraphError as exc:
        fail(str(exc))
    table = Table(
        title=f"opsgraph bench sim-detect ({report['results'][0]['incidents']} incidents)"
    )
    for col in (
        "detector",
        "detected",
        "node P",
        "node R",
        "node F1",
        "steps to detect",
        "false alarms / node-day",
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
        )
    console.print(table)
    if out is not None:
        out.write_text(json.dumps(report, indent=2))
        console.print(f"written to {out}")


@bench_app.command("multivariate")
def bench_multivariate(
    out: Annotated[Path | None, typer.Option(help="Write the figures as JSON.")] = None,
) -> None:
    """ROC-AUC and average precision of `detect score` approaches on simulated resources:
    trained on two fault-free days, tested on two days with a fault every hour."""
    from opsgraph.bench.multivariate import run_multivariate_bench

    with console.status("simulating and scoring"):
        report = run_multivariate_bench()
    table = Table(title=f"opsgraph bench multivariate ({report['resources_evaluated']} resources)")
    for col in ("approach", "ROC-AUC", "average precision"):
        table.add_column(col, justify="right")
    for r in report["results"]:
        table.add_row(r["approach"], f"{r['roc_auc']:.3f}", f"{r['average_precision']:.3f}")
    console.print(table)
    if out is not None:
        out.write_text(json.dumps(report, indent=2))
        console.print(f"written to {out}")


@bench_app.command("nab")
def bench_nab(
    data: Annotated[Path, typer.Option(help="NAB corpus folder (data/, labels/, config/).")] = Path(
        "../shared/data/nab"
    ),
    members: Annotated[
        str,
        typer.Option(
            help="Ensemble members as NAME[@WINDOW],... of registered detectors "
            "and :key=value settings (default: robust_z@120,cusum@120:k=1.0,seasonal:period=week)."
        ),
    ] = "",
    dedup_rows: Annotated[
        int, typer.Option(help="Rows in which a repeat of a high score is damped (0 = off).")
    ] = 0,
    tail_level: Annotated[
        float,
        typer.Option(min=0.5, max=0.9999, help="Quantile above which calibrators fit the tail."),
    ] = 0.99,
    rest_rows: Annotated[
        int,
        typer.Option(min=0, help="Rows silenced after a score reaches --rest-level (0 = off)."),
    ] = 50,
    rest_level: Annotated[
        float, typer.Option(min=0.5, max=1.0, help="Score that starts a rest period.")
    ] = 0.9995,
    files: Annotated[
        list[str] | None,
        typer.Option("--file", help="Only files whose path contains this (repeatable)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write NAB result files (one CSV per data file) and report.json here."),
    ] = None,
) -> None:
    """Run a detector causally over the Numenta Anomaly Benchmark and score it with NAB's rules.

    Scores are normalised (null detector 0, perfect 100) for the standard, reward_low_FP_rate
    and reward_low_FN_rate profiles, with one threshold per profile over the whole corpus.
    """
    from opsgraph.bench.nab.run import DEFAULT_MEMBERS, run_nab

    try:
        with console.status("running the detector over the corpus"):
            report = run_nab(
                data,
                members=members or DEFAULT_MEMBERS,
                dedup_rows=dedup_rows,
                level=tail_level,
                rest_rows=rest_rows,
                rest_level=rest_level,
                out=out,
                only=files or (),
            )
    except OpsgraphError as exc:
        fail(str(exc))
    table = Table(title=f"NAB: {report['detector']} ({report['files']} files)")
    for col in ("profile", "score", "threshold", "TP", "FP", "FN"):
        table.add_column(col, justify="right")
    for profile, r in report["profiles"].items():
        table.add_row(
            profile,
            f"{r['score']:.2f}",
            f"{r['threshold']:.6f}",
            str(r["tp"]),
            str(r["fp"]),
            str(r["fn"]),
        )
    console.print(table)
    cats = report["profiles"]["standard"]["categories"]
    console.print(
        "standard by category: "
        + ", ".join(f"{k} {v:.1f}" for k, v in cats.items() if v is not None)
    )
    if out is not None:
        (out / "report.json").write_text(json.dumps(report, indent=2))
        console.print(f"results in {report['results_dir']}, report in {out / 'report.json'}")


def main() -> None:
    app()
