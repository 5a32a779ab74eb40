"""`opsgraph topology validate | load`: a YAML topology checked offline, or sent to a server."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from opsgraph.cli_common import DEFAULT_URL, call_api, console, fail
from opsgraph.core.errors import OpsgraphError
from opsgraph.sources.topology import Topology, YamlTopology

topology_app = typer.Typer(
    help="Resources and dependencies from a YAML file.", no_args_is_help=True
)

FileArg = Annotated[Path, typer.Argument(help="YAML file: resources and dependencies (README).")]


def _read(path: Path) -> Topology:
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
    url: Annotated[str, typer.Option("--url", help="Base URL of the running opsgraph API.")] = (
        DEFAULT_URL
    ),
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
