"""The estate a process knows: its resources and dependencies, kept in the store, cached in
memory for the hot path, and registered with the ingestor so their series can be scored."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from opsgraph.core.models import Dependency, Resource
from opsgraph.ingest.stream import Ingestor
from opsgraph.notify.hub import EventHub
from opsgraph.store import Store


class Estate:
    """Resources by id and the dependency list; every change goes to the store first."""

    def __init__(self, store: Store, ingestor: Ingestor, hub: EventHub) -> None:
        self.store = store
        self.ingestor = ingestor
        self.hub = hub
        self.resources: dict[str, Resource] = {r.id: r for r in store.list_resources()}
        self.dependencies: list[Dependency] = store.list_dependencies()
        ingestor.add_resources(self.resources.values())

    def upsert(self, resources: Sequence[Resource], dependencies: Sequence[Dependency]) -> None:
        """Store resources and dependencies (new or changed) and start scoring their series."""
        self.store.upsert_topology(resources, dependencies)
        self.resources.update({r.id: r for r in resources})
        self.dependencies = self.store.list_dependencies()
        self.ingestor.add_resources(resources)

    def register_new(self, resources: Iterable[Resource], source: str | None = None) -> None:
        """Register the resources not known yet (met in pushed samples or outside alerts) and
        tell the console and the other replicas that the topology changed."""
        new = {r.id: r for r in resources if r.id not in self.resources}
        if not new:
            return
        self.upsert(list(new.values()), [])
        message: dict[str, Any] = {"nodes": [], "topology": True}
        if source is not None:
            message["source"] = source
        self.hub.publish("graph:update", message)

    def reload(self) -> None:
        """Take the topology from the store (another replica registered resources)."""
        resources = self.store.list_resources()
        self.resources.update({r.id: r for r in resources})
        self.dependencies = self.store.list_dependencies()
        self.ingestor.add_resources(resources)

    def graph(self) -> dict[str, Any]:
        """Nodes with their latest metrics, score and severity, and the edges (the console's
        graph)."""
        snapshot = self.ingestor.snapshot()
        nodes = []
        for resource in self.resources.values():
            metrics, score, state = snapshot.get(resource.id, ({}, 0.0, None))
            nodes.append(
                {
                    "id": resource.id,
                    "kind": resource.kind.value,
                    "name": resource.name or resource.id,
                    "region": resource.region,
                    "provider": resource.provider,
                    "tags": resource.tags,
                    "metrics": metrics,
                    "score": score,
                    "severity": state.severity.value if state and state.severity else None,
                    "anomalous": bool(state and state.anomalous),
                }
            )
        edges = [
            {"source": d.source, "target": d.target, "kind": d.kind.value, "inferred": d.inferred}
            for d in self.dependencies
        ]
        return {"ts": self.ingestor.latest_ts, "nodes": nodes, "edges": edges}
