"""Explanations of stored anomalies: the samples around each one read from the store, handed
to `explain.live` (root causes, cascade, summary) with the served graph model's attribution
when one is registered; kept while the anomaly does not change."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from opsgraph.core.errors import ConflictError, MissingExtraError, UnavailableError
from opsgraph.core.models import Dependency
from opsgraph.explain.live import GraphExplainer, Series, explain_anomaly, window_of
from opsgraph.models.gnn.service import GraphModels
from opsgraph.models.settings import GnnSettings
from opsgraph.store import Store

#: Explanations kept (by anomaly and its last change); the oldest goes first.
CACHE_SIZE = 256

#: Told each stage of an explanation as it starts: (stage, what it works on).
Progress = Callable[[str, str], None]


def _quiet(stage: str, detail: str) -> None:
    return None


class Explanations:
    def __init__(
        self,
        store: Store,
        graph_models: GraphModels,
        settings: GnnSettings,
        dependencies: Callable[[], Sequence[Dependency]],
    ) -> None:
        self.store = store
        self.graph_models = graph_models
        self.settings = settings
        self.dependencies = dependencies
        self._cache: dict[tuple[int, float, float | None], dict[str, Any]] = {}

    def explain(self, anomaly_id: int, progress: Progress = _quiet) -> dict[str, Any]:
        """Root causes, cascade path and evidence of an anomaly (cached per anomaly state);
        `progress` hears each stage as it starts (reading, ranking, attributing)."""
        anomaly = self.store.get_anomaly(anomaly_id)
        key = (anomaly_id, anomaly.last_ts, anomaly.end_ts)
        cached = self._cache.get(key)
        if cached is None:
            dependencies = self.dependencies()
            nodes, start, end = window_of(anomaly, dependencies)
            progress("reading", f"the samples of {len(nodes)} resources around the anomaly")
            series: Series = {}
            for node in nodes:
                for metric, samples in self.store.read_samples(node, start=start, end=end).items():
                    series[(node, metric)] = samples
            progress("ranking", f"root causes over {len(series)} series")
            graph_model = self._graph_explainer()
            if graph_model is not None:
                inner = graph_model

                def graph_model(window: Any, node: int) -> dict[str, Any]:
                    progress("attributing", "the signals with the graph model (SHAP, GNNExplainer)")
                    return inner(window, node)

            cached = explain_anomaly(anomaly, series, nodes, dependencies, graph_model=graph_model)
            if len(self._cache) >= CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = cached
        return cached

    def _graph_explainer(self) -> GraphExplainer | None:
        """SHAP x GNNExplainer with the served GraphSAGE model, or None while there is none
        (or PyTorch, the `gnn` extra, is not installed)."""
        try:
            detector, info = self.graph_models.get()
        except (ConflictError, UnavailableError, MissingExtraError):
            return None
        if info.detector != "graphsage":
            return None
        cfg = self.settings

        def run(window: Any, node: int) -> dict[str, Any]:
            from opsgraph.explain.attribution import explain_node

            result = explain_node(
                detector,
                window,
                node,
                shap_samples=cfg.shap_samples,
                gnn_epochs=cfg.explain_epochs,
            ).to_json()
            return result | {"model": {"name": info.name, "version": info.version}}

        return run
