"""The operator's side of a runtime: explanations, feedback, maintenance windows and the
alert lifecycle (acknowledge / resolve / reopen, incidents, silences, outside alerts).

`Runtime` mixes this in; it holds the state these methods use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from opsgraph.alerts import AlertLifecycle
from opsgraph.core.models import (
    Anomaly,
    AnomalyStatus,
    Dependency,
    ExternalAlert,
    Feedback,
    FeedbackVerdict,
    MaintenanceWindow,
    Resource,
)
from opsgraph.detect.gnn.service import GraphModels
from opsgraph.ingest import Ingestor
from opsgraph.notify import EventHub
from opsgraph.runtime.settings import Settings
from opsgraph.store import Store


class OperatorControl:
    """Methods of Runtime that operators reach through the API and CLI."""

    settings: Settings
    store: Store
    hub: EventHub
    ingestor: Ingestor
    graph_models: GraphModels
    alerts: AlertLifecycle
    resources: dict[str, Resource]
    dependencies: list[Dependency]
    _explained: dict[tuple[int, float, float | None], dict[str, Any]]
    upsert_topology: Callable[[Sequence[Resource], Sequence[Dependency]], None]

    # -- operator control -----------------------------------------------------------------
    def now(self) -> float:
        """The pipeline's clock: the newest sample time (simulated time may run ahead)."""
        return self.ingestor.latest_ts if self.ingestor.latest_ts is not None else time.time()

    def _graph_explainer(self) -> Callable[[Any, int], dict[str, Any]] | None:
        """SHAP x GNNExplainer with the served GraphSAGE model, or None while there is none."""
        from opsgraph.core.errors import ConflictError, UnavailableError

        try:
            detector, info = self.graph_models.get()
        except (ConflictError, UnavailableError):
            return None
        if info.detector != "graphsage":
            return None
        cfg = self.settings.gnn

        def run(window: Any, node: int) -> dict[str, Any]:
            from opsgraph.detect.gnn.explain import explain_node

            result = explain_node(
                detector,
                window,
                node,
                shap_samples=cfg.shap_samples,
                gnn_epochs=cfg.explain_epochs,
            ).to_json()
            return result | {"model": {"name": info.name, "version": info.version}}

        return run

    def explain(self, anomaly_id: int) -> dict[str, Any]:
        """Root causes, cascade path and evidence of an anomaly (cached per anomaly state)."""
        from opsgraph.rca.live import explain_anomaly

        anomaly = self.store.get_anomaly(anomaly_id)
        key = (anomaly_id, anomaly.last_ts, anomaly.end_ts)
        cached = self._explained.get(key)
        if cached is None:
            cached = explain_anomaly(
                self.store, anomaly, self.dependencies, graph_model=self._graph_explainer()
            )
            if len(self._explained) >= 256:
                self._explained.pop(next(iter(self._explained)))
            self._explained[key] = cached
        return cached

    def give_feedback(
        self, anomaly_id: int, verdict: FeedbackVerdict, *, note: str = "", actor: str = "api"
    ) -> tuple[Feedback, float]:
        """Store a verdict, let the decision step learn from it; returns the new threshold."""
        anomaly = self.store.get_anomaly(anomaly_id)
        feedback = self.store.add_feedback(
            Feedback(
                anomaly_id=anomaly_id,
                resource_id=anomaly.resource_id,
                metric=anomaly.metric,
                verdict=verdict,
                score=anomaly.max_score,
                note=note,
                actor=actor,
                ts=time.time(),
            )
        )
        threshold = self.ingestor.apply_feedback(feedback)
        self.store.audit(
            actor,
            "detect.feedback",
            f"{anomaly.resource_id}/{anomaly.metric}",
            reason=note,
            inputs={"anomaly_id": anomaly_id, "verdict": verdict.value},
            result={"threshold": threshold},
        )
        return feedback, threshold

    def add_maintenance(self, window: MaintenanceWindow) -> MaintenanceWindow:
        saved = self.store.add_maintenance(window)
        self.ingestor.set_maintenance(self.store.list_maintenance())
        self.store.audit(
            window.actor,
            "detect.maintenance.add",
            ",".join(window.resource_ids),
            reason=window.reason,
            inputs=saved.model_dump(mode="json"),
        )
        return saved

    def delete_maintenance(self, window_id: int, *, actor: str = "api") -> None:
        self.store.delete_maintenance(window_id)
        self.ingestor.set_maintenance(self.store.list_maintenance())
        self.store.audit(actor, "detect.maintenance.delete", str(window_id))

    # -- alert lifecycle ------------------------------------------------------------------
    def _live(self, anomaly_id: int) -> Anomaly | None:
        """The detector's own copy of an open episode, if it holds one."""
        return next((a for a in self.ingestor.tracker.open.values() if a.id == anomaly_id), None)

    def set_anomaly_status(
        self, anomaly_id: int, status: AnomalyStatus, *, actor: str, note: str = ""
    ) -> Anomaly:
        """Acknowledge, resolve or reopen an anomaly. Resolving ends the detector's episode:
        if the series is still abnormal, a new anomaly opens."""
        anomaly = self.store.get_anomaly(anomaly_id)
        saved = self.alerts.set_anomaly_status(anomaly, status, actor=actor, note=note)
        live = self._live(anomaly_id)
        if live is not None:
            live.status = saved.status
            live.end_ts = saved.end_ts
            if status is AnomalyStatus.RESOLVED:
                tracker = self.ingestor.tracker
                for series, episode in list(tracker.open.items()):
                    if episode is live:
                        del tracker.open[series]
        return saved

    def receive_alerts(self, alerts: Sequence[ExternalAlert]) -> list[Anomaly]:
        """Alerts of other systems (Alertmanager, CloudWatch): an anomaly per fingerprint,
        opened, updated or closed; their resources are registered when new."""
        # Only firing alerts register resources: a resolution of something never seen (an
        # alarm poller's first look at every OK alarm) changes nothing.
        new = {
            a.resource_id: Resource(id=a.resource_id, provider=a.source, tags=dict(a.labels))
            for a in alerts
            if a.firing and a.resource_id not in self.resources
        }
        if new:
            self.upsert_topology(list(new.values()), [])
            self.hub.publish("graph:update", {"nodes": [], "topology": True})
        opened, changed = self.alerts.receive(alerts)
        for anomaly in opened:
            self.hub.publish("anomaly:new", anomaly.model_dump(mode="json"))
        for anomaly in changed:
            kind = (
                "anomaly:resolved" if anomaly.status is AnomalyStatus.RESOLVED else "anomaly:update"
            )
            self.hub.publish(kind, anomaly.model_dump(mode="json"))
        return [*opened, *changed]
