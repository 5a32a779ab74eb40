"""`opsgraph topology validate | load`: a YAML topology checked offline, or sent to a server."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from opsgraph.cli.common import UrlOpt, call_api, console, fail
from opsgraph.core.errors import OpsgraphError

if TYPE_CHECKING:
    from opsgraph.sources.topology import Topology

topology_app = typer.Typer(
    help="Resources and dependencies from a YAML file.", no_args_is_help=True
)

FileArg = Annotated[Path, typer.Argument(help="YAML file: resources and dependencies (README).")]


def _read(path: Path) -> Topology:
    from opsgraph.sources.topology import YamlTopology

    try:
        return YamlTopology(path).discover()
    except OpsgraphError as exc:
        fail(str(exc))


@topology_app.command("validate")
def topology_validate(path: FileArg) -> None:
    """Check a topology file and summarise it; errors name the entry at fault."""
    topology = _read(path)
    kinds = Counter(r.kind.value for r in topology.resources)
    edges = Counter(d.kind.value for d in topology.dependencies)
    console.print(
        f"{path}: {len(topology.resources)} resources "
        f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items())) or 'none'}), "
        f"{len(topology.dependencies)} dependencies "
        f"({', '.join(f'{n} {k}' for k, n in sorted(edges.items())) or 'none'})",
        soft_wrap=True,
    )


@topology_app.command("load")
def topology_load(
    path: FileArg,
    url: UrlOpt = "",
) -> None:
    """Register a topology file's resources and dependencies with a running server."""
    topology = _read(path)
    body = {
        "resources": [r.model_dump(mode="json") for r in topology.resources],
        "dependencies": [d.model_dump(mode="json") for d in topology.dependencies],
    }
    result = call_api("POST", f"{url.rstrip('/')}/resources", body)
    console.print(
        f"registered {result['resources']} resources and {result['dependencies']} dependencies"
    )


@topology_app.command("infer")
def topology_infer(
    metrics: Annotated[
        Path, typer.Option(help="Wide CSV: a time column, then one column per <node>_<metric>.")
    ],
    out: Annotated[
        Path | None, typer.Option(help="Write the edges as source,target,kind (for rca run).")
    ] = None,
    min_corr: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Correlation of changes that links two nodes.")
    ] = 0.6,
    per_node: Annotated[int, typer.Option(min=1, help="Strongest links kept per node.")] = 3,
) -> None:
    """Infer dependencies from metrics alone (no topology given); the edges are marked inferred."""
    from opsgraph.sources.case_files import read_metrics
    from opsgraph.sources.inferred import infer_edges

    try:
        table = read_metrics(metrics)
        edges = infer_edges(
            table.nodes, table.metrics, table.values, min_corr=min_corr, per_node=per_node
        )
    except OpsgraphError as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(f"metrics: {exc}")
    for e in edges:
        lead = f"leads by {e.lag} row{'s' if e.lag != 1 else ''}" if e.lag else "same row"
        console.print(
            f"{e.source} -> {e.target}  corr {e.correlation:.2f} on {e.metric} ({lead})",
            soft_wrap=True,
        )
    console.print(f"{len(edges)} inferred dependencies")
    if out is not None:
        lines = ["source,target,kind"] + [f"{e.source},{e.target},calls" for e in edges]
        out.write_text("\n".join(lines) + "\n")
        console.print(f"written to {out}")


@topology_app.command("discover-aws")
def topology_discover_aws(
    region: Annotated[list[str], typer.Option("--region", help="Region to discover (repeatable).")],
    endpoint_url: Annotated[
        str | None, typer.Option(help="Another endpoint, such as a local moto server.")
    ] = None,
    profile: Annotated[str | None, typer.Option(help="Named AWS profile.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the topology as YAML (for topology.file).")
    ] = None,
    load: Annotated[bool, typer.Option(help="Register it with a running server.")] = False,
    url: UrlOpt = "",
) -> None:
    """Discover EC2, Auto Scaling, ELBv2, Lambda, RDS, S3 and ElastiCache with their
    dependencies (target groups, memberships, event sources, security groups, tags)."""
    import yaml
    from botocore.exceptions import BotoCoreError

    from opsgraph.sources.aws import AwsTopology, boto3_clients

    try:
        clients = boto3_clients(endpoint_url=endpoint_url, profile=profile)
        topology = AwsTopology(region, clients).discover()
    except OpsgraphError as exc:
        fail(str(exc))
    except (BotoCoreError, ValueError) as exc:  # set-up: unknown profile, bad endpoint URL
        fail(f"aws: {exc}")
    body = {
        "resources": [r.model_dump(mode="json", exclude_defaults=True) for r in topology.resources],
        "dependencies": [
            d.model_dump(mode="json", exclude_defaults=True) for d in topology.dependencies
        ],
    }
    kinds = Counter(r.kind.value for r in topology.resources)
    console.print(
        f"discovered {len(topology.resources)} resources "
        f"({', '.join(f'{n} {k}' for k, n in sorted(kinds.items())) or 'none'}) "
        f"and {len(topology.dependencies)} dependencies",
        soft_wrap=True,
    )
    if out is not None:
        out.write_text(yaml.safe_dump(body, sort_keys=False))
        console.print(f"written to {out}")
    if load:
        result = call_api("POST", f"{url.rstrip('/')}/resources", body)
        console.print(
            f"registered {result['resources']} resources and {result['dependencies']} dependencies"
        )
