"""What comes into a process: samples from any source (through ingest and detection), alerts of
other systems, and the live messages that tell subscribers what changed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from opsgraph.alerts.lifecycle import AlertLifecycle
from opsgraph.core.metrics import SIGNALS
from opsgraph.core.models import Anomaly, AnomalyStatus, ExternalAlert, Resource, SampleFrame
from opsgraph.ingest.stream import Ingestor, IngestResult
from opsgraph.notify.hub import EventHub
from opsgraph.runtime.estate import Estate
from opsgraph.sources.pull import Batch

log = logging.getLogger("opsgraph.runtime")


class Intake:
    """Samples -> ingest -> alert lifecycle -> events; outside alerts -> anomalies."""

    def __init__(
        self, ingestor: Ingestor, estate: Estate, alerts: AlertLifecycle, hub: EventHub
    ) -> None:
        self.ingestor = ingestor
        self.estate = estate
        self.alerts = alerts
        self.hub = hub

    def accept(self, batch: Batch, source: str = "push") -> IngestResult:
        """Samples from an outside source: register the resources new to us, ingest, publish."""
        self.estate.register_new(batch.resources, source)
        result = self.ingestor.ingest_arrays(batch.sample_columns())
        self.publish(result)
        if batch.alerts:
            self.receive_alerts(batch.alerts)
        return result

    def publish(self, result: IngestResult, frame: SampleFrame | None = None) -> None:
        """Hand opened and closed anomalies to the alert lifecycle and tell subscribers."""
        hub = self.hub
        if result.opened or result.closed or result.updated:
            try:
                self.alerts.process(result.opened, result.closed, result.updated)
            except Exception:  # the samples are stored; a lifecycle failure must not lose them
                log.exception("alert lifecycle failed")
        for anomaly in result.opened:
            hub.publish("anomaly:new", anomaly.model_dump(mode="json"))
        for anomaly in result.closed:
            hub.publish("anomaly:resolved", anomaly.model_dump(mode="json"))
        if result.changed_nodes:
            nodes = [
                {
                    "id": node,
                    "score": state.score,
                    "severity": state.severity.value if state.severity else None,
                    "anomalous": state.anomalous,
                }
                for node, state in result.changed_nodes.items()
            ]
            hub.publish("graph:update", {"nodes": nodes})
        if frame is not None and hub.subscriber_count:
            hub.publish("metrics:update", self._metrics_message(frame))

    def _metrics_message(self, frame: SampleFrame) -> dict[str, Any]:
        cols = [frame.metrics.index(m) for m in SIGNALS if m in frame.metrics]
        names = [frame.metrics[c] for c in cols]
        table = frame.values[:, cols].tolist()
        nodes = {}
        for node, row in zip(frame.resource_ids, table, strict=True):
            entry = {name: v for name, v in zip(names, row, strict=True) if v == v}
            entry["score"] = self.ingestor.node_score(node)
            nodes[node] = entry
        return {"ts": frame.ts, "nodes": nodes}

    def receive_alerts(self, alerts: Sequence[ExternalAlert]) -> list[Anomaly]:
        """Alerts of other systems (Alertmanager, CloudWatch): an anomaly per fingerprint,
        opened, updated or closed; their resources are registered when new."""
        # Only firing alerts register resources: a resolution of something never seen (an
        # alarm poller's first look at every OK alarm) changes nothing.
        self.estate.register_new(
            Resource(id=a.resource_id, provider=a.source, tags=dict(a.labels))
            for a in alerts
            if a.firing
        )
        opened, changed = self.alerts.receive(alerts)
        for anomaly in opened:
            self.hub.publish("anomaly:new", anomaly.model_dump(mode="json"))
        for anomaly in changed:
            kind = (
                "anomaly:resolved" if anomaly.status is AnomalyStatus.RESOLVED else "anomaly:update"
            )
            self.hub.publish(kind, anomaly.model_dump(mode="json"))
        return [*opened, *changed]
