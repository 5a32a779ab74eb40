"""The resource graph: resources as nodes, dependencies as directed edges.

Indexes adjacency both ways so explanations and the simulator can walk callers and callees.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

from opsgraph.core.errors import InvalidInputError
from opsgraph.core.models import Dependency, DependencyKind, Resource


class ResourceGraph:
    """An immutable view of resources and their dependencies."""

    def __init__(self, resources: Iterable[Resource], dependencies: Iterable[Dependency]) -> None:
        self.resources: dict[str, Resource] = {}
        for r in resources:
            self.resources[r.id] = r
        self.dependencies: list[Dependency] = []
        self._out: dict[str, list[Dependency]] = defaultdict(list)
        self._in: dict[str, list[Dependency]] = defaultdict(list)
        for i, d in enumerate(dependencies):
            for end in (d.source, d.target):
                if end not in self.resources:
                    raise InvalidInputError(f"dependencies[{i}]", f"unknown resource {end!r}")
            self.dependencies.append(d)
            self._out[d.source].append(d)
            self._in[d.target].append(d)

    def __len__(self) -> int:
        return len(self.resources)

    def __contains__(self, resource_id: object) -> bool:
        return resource_id in self.resources

    def callees(self, node: str, kind: DependencyKind | None = None) -> list[str]:
        """Resources that `node` depends on."""
        return [d.target for d in self._out.get(node, ()) if kind is None or d.kind == kind]

    def callers(self, node: str, kind: DependencyKind | None = None) -> list[str]:
        """Resources that depend on `node`."""
        return [d.source for d in self._in.get(node, ()) if kind is None or d.kind == kind]

    def upstream(self, node: str) -> set[str]:
        """Every resource that depends on `node`, directly or transitively (feels its faults)."""
        return self._reach(node, self.callers)

    def downstream(self, node: str) -> set[str]:
        """Every resource `node` depends on, directly or transitively (who carries its load)."""
        return self._reach(node, self.callees)

    @staticmethod
    def _reach(node: str, step: object) -> set[str]:
        assert callable(step)
        seen: set[str] = set()
        queue = deque([node])
        while queue:
            for nxt in step(queue.popleft()):
                if nxt not in seen and nxt != node:
                    seen.add(nxt)
                    queue.append(nxt)
        return seen
