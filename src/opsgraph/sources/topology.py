"""Topology sources: plug-ins that return the estate's resources and dependencies.

`YamlTopology` reads a file of this shape (validated whole, errors name the entry):

    resources:
      - id: shop-lb                      # required: letters, digits, _ . : @ -
        kind: elb                # elb ec2 asg lambda rds s3 cache k8s_service k8s_pod generic
        name: shop load balancer         # optional
        region: eu-west-1                # optional
        tags: {team: shop, env: prod}    # optional, strings
      - {id: shop-1, kind: ec2}
    dependencies:
      - {source: shop-lb, target: shop-1}                  # calls (the default kind)
      - {source: shop-asg, target: shop-1, kind: member}   # a group and one of its members
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Dependency, Resource

#: The most resources / dependencies one file may hold.
MAX_RESOURCES = 20_000
MAX_DEPENDENCIES = 200_000


@dataclass(slots=True)
class Topology:
    resources: list[Resource] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resources: list[Resource] = Field(default_factory=list, max_length=MAX_RESOURCES)
    dependencies: list[Dependency] = Field(default_factory=list, max_length=MAX_DEPENDENCIES)


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "file"


def check_topology(topology: Topology, known: frozenset[str] = frozenset()) -> Topology:
    """Unique ids; every dependency between known resources; no self-loops."""
    seen: set[str] = set()
    for i, r in enumerate(topology.resources):
        if r.id in seen:
            raise InvalidInputError(f"resources[{i}].id", f"{r.id!r} appears twice")
        seen.add(r.id)
    names = seen | set(known)
    for i, d in enumerate(topology.dependencies):
        for end in ("source", "target"):
            if getattr(d, end) not in names:
                raise InvalidInputError(
                    f"dependencies[{i}].{end}", f"unknown resource {getattr(d, end)!r}"
                )
        if d.source == d.target:
            raise InvalidInputError(f"dependencies[{i}]", f"{d.source!r} depends on itself")
    return topology


def parse_topology(data: Any, provider: str = "file") -> Topology:
    """Validate a decoded YAML / JSON document; resources without a provider get `provider`."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInputError("file", "must be a mapping with resources and dependencies")
    for entry in data.get("resources") or []:
        if isinstance(entry, dict):
            entry.setdefault("provider", provider)
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInputError(_where(first["loc"]), first["msg"]) from None
    return check_topology(Topology(parsed.resources, parsed.dependencies))


class YamlTopology:
    """Resources and dependencies from a YAML (or JSON) file of the documented shape."""

    name = "yaml"

    def __init__(self, path: Path) -> None:
        self.path = path

    def discover(self) -> Topology:
        if not self.path.is_file():
            raise InvalidInputError("topology", f"{self.path} not found")
        try:
            data = yaml.safe_load(self.path.read_text())
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            reason = f"{self.path.name} is not valid YAML{where}"
            raise InvalidInputError("topology", reason) from None
        return parse_topology(data)
