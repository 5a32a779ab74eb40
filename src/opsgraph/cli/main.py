"""The `opsgraph` command line: demo, serve, config, db, sim and bench.

Errors a user can cause exit with code 2 and a message naming the problem.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from opsgraph import __version__
from opsgraph.cli.auth import keys_app, users_app
from opsgraph.cli.bench import bench_app
from opsgraph.cli.bench_autoscale import bench_autoscale
from opsgraph.cli.bench_forecast import bench_forecast
from opsgraph.cli.bench_multivariate import bench_multivariate
from opsgraph.cli.bench_remediation import bench_remediation
from opsgraph.cli.common import UrlOpt, call_api, console, fail, report
from opsgraph.cli.detect import backtest, detect_app, feedback, maintenance_app
from opsgraph.cli.forecast import forecast_app
from opsgraph.cli.ingest import ingest_app
from opsgraph.cli.logs import logs_app
from opsgraph.cli.policy import policy_app
from opsgraph.cli.rca import rca_app
from opsgraph.cli.topology import topology_app
from opsgraph.cli.train import train_app
from opsgraph.core.errors import OpsgraphError

if TYPE_CHECKING:
    from opsgraph.runtime.settings import Settings

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
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(sim_app, name="sim")
bench_app.command("remediation")(bench_remediation)
bench_app.command("multivariate")(bench_multivariate)
bench_app.command("forecast")(bench_forecast)
bench_app.command("autoscale")(bench_autoscale)
app.add_typer(bench_app, name="bench")
app.add_typer(detect_app, name="detect")
app.command("backtest")(backtest)
app.command("feedback")(feedback)
app.add_typer(maintenance_app, name="maintenance")
app.add_typer(rca_app, name="rca")
app.add_typer(topology_app, name="topology")
app.add_typer(train_app, name="train")
app.add_typer(ingest_app, name="ingest")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(logs_app, name="logs")
app.add_typer(policy_app, name="policy")
app.add_typer(forecast_app, name="forecast")


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="YAML config file (default: $OPSGRAPH_CONFIG or ./opsgraph.yaml)."
    ),
]


def _settings(config: Path | None, **overrides: Any) -> Settings:
    from opsgraph.runtime.settings import Settings, load_settings

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
        # A line per request to the API would bury the answer that the command prints.
        logging.getLogger("httpx").setLevel(logging.WARNING)


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"opsgraph {__version__}")


@config_app.command("show")
def config_show(config: ConfigOpt = None) -> None:
    """Print the effective configuration (defaults, file and OPSGRAPH_* variables merged)."""
    from opsgraph.runtime.settings import settings_as_yaml

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
        float | None,
        typer.Option(help="Simulated seconds per real second (default 1: real time)."),
    ] = None,
    fault_every: Annotated[
        float | None, typer.Option(help="Real seconds between injected faults; 0 = none.")
    ] = None,
    remediate: Annotated[
        bool,
        typer.Option(
            "--remediate/--no-remediate",
            help="Act on incidents with the shipped auto policies, unless the config names an "
            "automation.policy_dir of its own.",
        ),
    ] = True,
) -> None:
    """Run a simulated estate with injected faults through detection, API and dashboard.

    Needs no server: it keeps its data in a fresh SQLite file (demo.db in the data directory).
    """
    from opsgraph.act.policy import SHIPPED_POLICIES

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
    if remediate and settings.automation.policy_dir is None:
        automation = settings.automation.model_copy(update={"policy_dir": SHIPPED_POLICIES})
        settings = settings.model_copy(update={"automation": automation})
    from opsgraph.cli.server import run_server

    run_server(settings, demo=True)


@app.command()
def serve(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
) -> None:
    """Run the pipeline from the configured sources, with the API and dashboard.

    Data persists in the configured store; samples can also be pushed to POST /ingest/samples.
    """
    from opsgraph.cli.server import run_server

    run_server(_settings(config, **{"api.host": host, "api.port": port}), demo=False)


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
    url: UrlOpt = "",
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
    url: UrlOpt = "",
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


def main() -> None:
    """The `opsgraph` script. A command that needs an extra that is not installed says which
    one and exits 2, wherever the missing import happens."""
    from opsgraph.core.errors import MissingExtraError
    from opsgraph.core.extras import missing_extra

    try:
        app()
        return
    except MissingExtraError as exc:
        problem = str(exc)
    except ModuleNotFoundError as exc:
        missing = missing_extra(exc, "this command")
        if missing is None:
            raise
        problem = str(missing)
    report(problem)
    raise SystemExit(2)
