"""`opsgraph train gnn|multivariate|list`: train graph detectors and the multivariate resource
model, register them as versions, and list what is registered."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from opsgraph.cli.common import console, fail
from opsgraph.core.errors import InvalidInputError, OpsgraphError

if TYPE_CHECKING:
    from opsgraph.models.registry import ModelInfo

train_app = typer.Typer(help="Train models and list the registered ones.", no_args_is_help=True)


class Mode(StrEnum):
    SUPERVISED = "supervised"
    SELF_SUPERVISED = "self-supervised"


class Detector(StrEnum):
    """Models of the multivariate resource model (detect.resource_model.DETECTORS)."""

    ENSEMBLE = "ensemble"
    IFOREST = "iforest"
    OCSVM = "ocsvm"
    LOF = "lof"
    ECOD = "ecod"
    AUTOENCODER = "autoencoder"


ModelsDirOpt = Annotated[
    Path | None,
    typer.Option(help="Model registry folder (default: <data_dir>/models from the config)."),
]
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")]


def models_dir(explicit: Path | None, config: Path | None) -> Path:
    if explicit is not None:
        return explicit
    from opsgraph.runtime.settings import load_settings

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
    from_store: Annotated[
        bool,
        typer.Option(
            "--from-store",
            help="Self-supervised only: train on this estate's own recorded samples (the last "
            "two days in the store) and its dependency graph.",
        ),
    ] = False,
    store: Annotated[
        str | None,
        typer.Option(help="With --from-store: database URL (default: the configured store)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of weights and data split.")] = 0,
    models: ModelsDirOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model info as JSON.")] = False,
) -> None:
    """Train a graph detector, evaluate it on held-out topologies and unseen fault kinds,
    and register it as a new version (weights, metadata, loss curve PNG)."""
    from opsgraph.models.gnn.registry import ModelRegistry
    from opsgraph.models.gnn.training import evaluate
    from opsgraph.models.plugins import create_graph_detector
    from opsgraph.runtime.training import Plan, held_out_set, training_set

    plan = Plan(incidents=incidents)
    try:
        if (metrics is not None or from_store) and mode is Mode.SUPERVISED:
            raise InvalidInputError(
                "metrics", "recorded data has no labels; use --mode self-supervised"
            )
        if metrics is not None and from_store:
            raise InvalidInputError("from_store", "give --metrics or --from-store, not both")
        if store is not None and not from_store:
            raise InvalidInputError("store", "--store goes with --from-store")
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
            elif from_store:
                windows, data_info = _from_store(store, config)
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
    console.print(f"registered in {info.path} (model.pt, meta.json, loss.svg)")


def _from_store(url: str | None, config: Path | None) -> tuple[list[Any], dict[str, Any]]:
    from opsgraph.runtime.graph_history import recorded_windows
    from opsgraph.runtime.settings import load_settings
    from opsgraph.store import Store

    source = Store(url or load_settings(config).store_url)
    try:
        return recorded_windows(source, source.list_dependencies())
    finally:
        source.close()


def _recorded(metrics: Path, graph: Path | None) -> tuple[list[Any], dict[str, Any]]:
    from opsgraph.models.gnn.training import windows_from_table
    from opsgraph.sources.case_files import read_edges, read_metrics

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


@train_app.command("multivariate")
def train_multivariate(
    detector: Annotated[
        Detector,
        typer.Option(help="ensemble: Isolation Forest + One-Class SVM + LOF; or one model alone."),
    ] = Detector.ENSEMBLE,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Train on a CSV instead of the store: wide (optional timestamp, then one "
            "column per feature) or long (resource_id, metric, timestamp, value)."
        ),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(help="Store to read history from (database URL; default: the configured)."),
    ] = None,
    max_rows: Annotated[
        int | None,
        typer.Option(min=100, help="History rows read (default: multivariate.max_rows)."),
    ] = None,
    threshold: Annotated[
        float, typer.Option(min=0.01, max=1.0, help="Calibrated score at which a sample alarms.")
    ] = 0.35,
    seed: Annotated[int, typer.Option(help="Seed of the models.")] = 0,
    models: ModelsDirOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model info as JSON.")] = False,
) -> None:
    """Fit the multivariate resource model served by /predict and /batch_predict on healthy
    history (the store's five signals, or a CSV's columns) and register it as a new version."""
    from opsgraph.core.metrics import SIGNALS
    from opsgraph.models.resource_model import ResourceModelRegistry, fit_and_register
    from opsgraph.runtime.resource_models import history_from_csv, history_from_store
    from opsgraph.runtime.settings import load_settings
    from opsgraph.store import Store

    try:
        if data is not None and store is not None:
            raise InvalidInputError("store", "give --data or --store, not both")
        settings = load_settings(config)
        root = models if models is not None else settings.data_dir / "models"
        with console.status("reading training data…"):
            if data is not None:
                X, features, data_info = history_from_csv(data)
            else:
                source = Store(store or settings.store_url)
                try:
                    limit = max_rows or settings.multivariate.max_rows
                    X, data_info = history_from_store(source, max_rows=limit)
                finally:
                    source.close()
                features = list(SIGNALS)
        with console.status(f"fitting {detector.value} on {X.shape[0]} rows…"):
            info = fit_and_register(
                ResourceModelRegistry(root),
                X,
                features,
                data=data_info,
                detector=detector.value,
                threshold=threshold,
                seed=seed,
            )
    except OpsgraphError as exc:
        fail(str(exc))
    if as_json:
        console.print_json(json.dumps(info.model_dump()))
        return
    trained = info.metrics["training"]
    console.print(
        f"{info.name} v{info.version} ({info.detector}) fitted on {trained['rows']} rows of "
        f"{', '.join(features)} from {data_info['resources']} resource(s); "
        f"{100 * trained['flagged_share']:.2f}% of them score above {info.threshold}"
    )
    console.print(
        f"registered in {info.path} (model.pkl, meta.json); "
        "a running server serves it from its next request"
    )


def _quality(m: ModelInfo) -> str:
    if m.family == "multivariate":
        trained = m.metrics.get("training", {})
        share = 100 * trained.get("flagged_share", float("nan"))
        return f"{share:.2f}% of {trained.get('rows')} rows flagged"
    held = m.metrics.get("held_out", {})
    return f"F1 {held.get('f1', float('nan')):.3f}, AUC-PR {held.get('auc_pr', float('nan')):.3f}"


@train_app.command("list")
def train_list(
    name: Annotated[str | None, typer.Argument(help="Only this model's versions.")] = None,
    models: ModelsDirOpt = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Registered models of every family (graph models, the multivariate resource model),
    oldest first, with their quality: held-out F1 / AUC-PR, or the share of the training rows
    the model flags."""
    from opsgraph.models.registry import ModelRegistry

    found = ModelRegistry(models_dir(models, config)).list(name)
    if as_json:
        console.print_json(json.dumps([m.model_dump() for m in found]))
        return
    if not found:
        console.print(
            "no registered models (train one with: opsgraph train gnn, "
            "or opsgraph train multivariate)"
        )
        return
    table = Table(title="registered models")
    for col in ("name", "version", "detector"):
        table.add_column(col, no_wrap=True)
    for col in ("created", "quality"):
        table.add_column(col)
    for m in found:
        table.add_row(m.name, str(m.version), m.detector, m.created, _quality(m))
    console.print(table)
    console.print(f"in {models_dir(models, config)} (paths: --json)")
