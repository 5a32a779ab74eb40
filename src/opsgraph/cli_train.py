"""`opsgraph train gnn` and `opsgraph train list`: train graph detectors and register them."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from opsgraph.cli_common import console, fail
from opsgraph.core.errors import InvalidInputError, OpsgraphError

train_app = typer.Typer(help="Train models and list the registered ones.", no_args_is_help=True)


class Mode(StrEnum):
    SUPERVISED = "supervised"
    SELF_SUPERVISED = "self-supervised"


ModelsDirOpt = Annotated[
    Path | None,
    typer.Option(help="Model registry folder (default: <data_dir>/models from the config)."),
]
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")]


def models_dir(explicit: Path | None, config: Path | None) -> Path:
    if explicit is not None:
        return explicit
    from opsgraph.config import load_settings

    return load_settings(config).data_dir / "models"


def metrics_table(title: str, rows: dict[str, dict[str, dict[str, float]]]) -> Table:
    """One row per model and evaluation set."""
    table = Table(title=title)
    for col in ("model", "set", "precision", "recall", "F1", "AUC-PR", "nodes", "anomalous"):
        table.add_column(col, justify="left" if col in ("model", "set") else "right")
    for model, sets in rows.items():
        for name, m in sets.items():
            table.add_row(
                model,
                name.replace("_", " "),
                *(f"{m[k]:.3f}" for k in ("precision", "recall", "f1", "auc_pr")),
                str(m["nodes"]),
                str(m["anomalous"]),
            )
    return table


@train_app.command("gnn")
def train_gnn(
    mode: Annotated[
        Mode,
        typer.Option(
            help="supervised: GraphSAGE on labelled simulated incidents; "
            "self-supervised: neighbourhood deviation, no labels needed."
        ),
    ] = Mode.SUPERVISED,
    epochs: Annotated[
        int | None,
        typer.Option(min=1, max=5000, help="Epochs (default 200, or 150 self-supervised)."),
    ] = None,
    incidents: Annotated[
        int, typer.Option(min=4, max=1000, help="Simulated incidents per topology.")
    ] = 48,
    metrics: Annotated[
        Path | None,
        typer.Option(
            help="Self-supervised only: train on a recorded wide CSV (a time column, "
            "then <node>_<metric> columns) instead of the simulator."
        ),
    ] = None,
    graph: Annotated[
        Path | None, typer.Option(help="With --metrics: edge list source,target[,kind].")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of weights and data split.")] = 0,
    models: ModelsDirOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model info as JSON.")] = False,
) -> None:
    """Train a graph detector, evaluate it on held-out topologies and unseen fault kinds,
    and register it as a new version (weights, metadata, loss curve PNG)."""
    from opsgraph.detect.gnn.registry import ModelRegistry
    from opsgraph.detect.gnn.training import Plan, evaluate, held_out_set, training_set
    from opsgraph.detect.registry import create_graph_detector

    plan = Plan(incidents=incidents)
    try:
        if metrics is not None and mode is Mode.SUPERVISED:
            raise InvalidInputError(
                "metrics", "recorded data has no labels; use --mode self-supervised"
            )
        if graph is not None and metrics is None:
            raise InvalidInputError("graph", "--graph goes with --metrics")
        name = "graphsage" if mode is Mode.SUPERVISED else "graph_deviation"
        params: dict[str, Any] = {"seed": seed}
        if epochs is not None:
            params["epochs"] = epochs
        detector = create_graph_detector(name, params)
        root = models_dir(models, config)
        with console.status(f"building training data ({name})…"):
            data_info: dict[str, Any]
            if metrics is not None:
                windows, data_info = _recorded(metrics, graph)
                labels = None
            else:
                train = training_set(plan)
                if mode is Mode.SELF_SUPERVISED:
                    train = train.only([""])
                windows, labels = train.windows, train.labels
                data_info = plan.describe() | {"windows": len(windows)}
            held_out = held_out_set(plan)
        with console.status(f"training {name} on {len(windows)} windows…"):
            report = detector.fit(windows, labels)
        with console.status("evaluating on held-out topologies…"):
            scores = evaluate(detector, held_out, plan.unseen_kinds)
        info = ModelRegistry(root).save(detector, report, data=data_info, metrics=scores)
    except OpsgraphError as exc:
        fail(str(exc))
    if as_json:
        console.print_json(json.dumps(info.model_dump()))
        return
    console.print(metrics_table(f"{name} v{info.version}, held-out evaluation", {name: scores}))
    console.print(
        f"kept epoch {report.best_epoch + 1} of {report.epochs} "
        f"(validation loss {report.best_val_loss:.4f})"
    )
    console.print(f"registered in {info.path} (model.pt, meta.json, loss.png)")


def _recorded(metrics: Path, graph: Path | None) -> tuple[list[Any], dict[str, Any]]:
    from opsgraph.detect.gnn.training import windows_from_table
    from opsgraph.rca.files import read_edges, read_metrics

    table = read_metrics(metrics)
    edges = read_edges(graph, set(table.nodes)) if graph is not None else None
    pairs = (edges.calls + edges.members) if edges is not None else []
    windows = windows_from_table(table.nodes, table.metrics, table.values, pairs)
    info = {
        "source": str(metrics),
        "graph": str(graph) if graph else None,
        "nodes": len(set(table.nodes)),
        "rows": int(table.values.shape[0]),
        "windows": len(windows),
    }
    return windows, info


@train_app.command("list")
def train_list(
    name: Annotated[str | None, typer.Argument(help="Only this detector's versions.")] = None,
    models: ModelsDirOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Registered models, oldest first, with their held-out metrics."""
    from opsgraph.detect.gnn.registry import ModelRegistry

    found = ModelRegistry(models_dir(models, config)).list(name)
    if as_json:
        console.print_json(json.dumps([m.model_dump() for m in found]))
        return
    if not found:
        console.print("no registered models (train one with: opsgraph train gnn)")
        return
    table = Table(title="registered models")
    for col in ("name", "version", "created", "epochs", "held-out F1", "AUC-PR", "path"):
        table.add_column(col)
    for m in found:
        held = m.metrics.get("held_out", {})
        table.add_row(
            m.name,
            str(m.version),
            m.created,
            str(m.training.get("epochs", "")),
            f"{held.get('f1', float('nan')):.3f}",
            f"{held.get('auc_pr', float('nan')):.3f}",
            m.path,
        )
    console.print(table)
